import Foundation
import HeraldLedger
import Logging
import PostgresNIO

/// Errors opening or migrating a PostgreSQL store.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    /// What went wrong (never the password).
    public var description: String
    /// The server's SQLSTATE, when the server refused the statement.
    public var sqlState: String?

    /// An error.
    public init(_ description: String, sqlState: String? = nil) {
        self.description = description
        self.sqlState = sqlState
    }
}

extension PostgresStoreError: StorageFaultReporting {
    /// SQLSTATE 53100 (disk_full): the server could not extend a file.
    public var storageFault: StorageFault? { sqlState == "53100" ? .full : nil }
}

extension PSQLError: StorageFaultReporting {
    /// SQLSTATE 53100 (disk_full).
    public var storageFault: StorageFault? { serverInfo?[.sqlState] == "53100" ? .full : nil }
}

/// One PostgreSQL database shared by the store and the ledger: a connection pool that runs for the life of
/// this object, and the migrations of both.
public final class PostgresDatabase: Sendable {
    /// The pool.
    public let client: PostgresClient
    /// The URL without its password (for logs and errors).
    public let displayURL: String
    /// How long opening the store waits for the server to answer (`connect_timeout=` in the URL, seconds, as
    /// libpq names it; default 60, generous for a busy server): an unreachable server is an error, not a hang.
    public let connectTimeout: Duration
    public let logger: Logger
    private let runner: Task<Void, Never>

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`).
    /// Nothing is sent until the first query. The pool is running when this returns (its run task starts
    /// immediately, on the calling thread, up to its first suspension), so a first query never finds it idle.
    public init(url: String, maxConnections: Int = 20, logger: Logger = Logger(label: "herald.postgres")) throws {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql",
            let host = c.host, !host.isEmpty
        else {
            throw PostgresStoreError("not a PostgreSQL URL (postgres://user@host:port/database): \(Self.redact(url))")
        }
        let user = c.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = c.password.flatMap { $0.removingPercentEncoding }
        var database = String(c.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = user }
        let sslmode = c.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw PostgresStoreError("sslmode=\(sslmode): expected disable, prefer or require")
        }
        let timeoutText = c.queryItems?.first(where: { $0.name == "connect_timeout" })?.value ?? "60"
        guard let timeoutSeconds = Int(timeoutText), timeoutSeconds > 0 else {
            throw PostgresStoreError("connect_timeout=\(timeoutText): expected a whole number of seconds above 0")
        }
        connectTimeout = .seconds(timeoutSeconds)
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: user, password: password, database: database, tls: tls)
        config.options.maximumConnections = maxConnections
        config.options.minimumConnections = 0
        config.options.connectTimeout = .seconds(Int64(timeoutSeconds))
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        displayURL = Self.redact(url)
        // `Task.immediate` runs `client.run()` synchronously up to its first suspension, and `run()` marks the
        // client running before it suspends: a query right after `init` leases from a running pool.
        runner = Task.immediate { await client.run() }
    }

    deinit { runner.cancel() }

    /// The longest `settle()` waits.
    public static let settleTimeout: Duration = .seconds(5)

    /// Waits until every write transaction that had started when this was called (in any database of the
    /// server: transaction ids are cluster-wide) has ended, polling every 5 ms for up to `timeout`; returns
    /// whether it did. The change feeds (`PostgresStore.changes(since:)`, `PostgresLedger.changes(after:)`)
    /// count a change once every transaction older than it has ended; reading after this makes a caller see
    /// its own committed writes, unless another write transaction stays open longer than `timeout` (then the
    /// feed shows them later: nothing is skipped).
    @discardableResult
    public func settle(timeout: Duration = PostgresDatabase.settleTimeout) async throws -> Bool {
        try await connection { conn in
            // Outside any transaction, so that each statement takes a fresh snapshot.
            let horizon = try await Self.snapshotBound("xmax", conn, logger)
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: timeout)
            while true {
                if try await Self.snapshotBound("xmin", conn, logger) >= horizon { return true }
                if clock.now >= deadline { return false }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// `pg_snapshot_xmin` or `pg_snapshot_xmax` of a fresh snapshot.
    private static func snapshotBound(_ bound: String, _ conn: PostgresConnection, _ logger: Logger)
        async throws -> Int64
    {
        let sql = "SELECT pg_snapshot_\(bound)(pg_current_snapshot())::text::bigint"
        for try await value in try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            .decode(Int64.self)
        {
            return value
        }
        throw PostgresStoreError("no snapshot bound from the server")
    }

    /// Stops the pool (its connections close).
    public func close() { runner.cancel() }

    /// `url` with any password replaced by `***`.
    public static func redact(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? url
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }

    /// Runs `body` in one transaction, again under `ConflictRetry.standard` when PostgreSQL aborts it as a
    /// deadlock victim (40P01: two daemons writing overlapping rows in different orders) or a serialization
    /// failure (40001).
    public func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await ConflictRetry.standard.run(isConflict: { Self.isConflict($0) }) { try await transaction(body) }
    }

    /// True for a deadlock or serialization failure, looking inside a transaction error.
    static func isConflict(_ error: any Error) -> Bool {
        let state = sqlState(error)
        return state == "40P01" || state == "40001"
    }

    /// The SQLSTATE of a server error, looking inside a transaction error.
    public static func sqlState(_ error: any Error) -> String? {
        if let e = error as? PSQLError { return e.serverInfo?[.sqlState] }
        if let t = error as? PostgresTransactionError {
            for inner in [t.closureError, t.commitError, t.beginError] {
                if let inner, let state = sqlState(inner) { return state }
            }
        }
        return nil
    }

    /// Runs `body` on one pooled connection, outside any explicit transaction.
    public func connection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Waits for the server to answer a query, at most `connectTimeout`; an unreachable or silent server
    /// throws an error naming it. The pool itself would keep retrying the connection without end.
    public func checkReachable() async throws {
        let timeout = connectTimeout
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.connection { conn in _ = try await conn.query("SELECT 1", logger: self.logger) }
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        guard answered else {
            throw PostgresStoreError(
                "PostgreSQL at \(displayURL) did not answer within \(timeout.components.seconds) s (connect_timeout)")
        }
    }

    /// Applies `migrations` (name, SQL) not yet recorded in `herald_migrations`, in order, all in one
    /// transaction. A transaction-scoped advisory lock serializes daemons starting together, so each
    /// migration runs once.
    ///
    /// One statement per migration step: PostgresNIO sends every query over the extended protocol, which
    /// takes a single command (several statements separated by `;` are refused). A step that must do several
    /// things is several steps, or one `DO` block.
    public func migrate(_ migrations: [(name: String, sql: String)]) async throws {
        try await checkReachable()
        try await transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(7358120)", logger: logger)
            try await db.query(
                """
                CREATE TABLE IF NOT EXISTS herald_migrations (
                  name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<String>()
            for try await name in try await db.query("SELECT name FROM herald_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for m in migrations where !applied.contains(m.name) {
                // One statement (see above), in this transaction.
                try await db.query(PostgresQuery(unsafeSQL: m.sql), logger: logger)
                try await db.query("INSERT INTO herald_migrations(name) VALUES (\(m.name))", logger: logger)
            }
        }
    }
}
