import Foundation
import HeraldCore
import struct PostgresNIO.PostgresQuery
import Testing

@testable import HeraldPostgres
@testable import HeraldLedger
@testable import HeraldSQLite

/// A temporary directory removed when the value is released.
final class TempDir: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes raw bytes to `name` and returns its path.
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// The schema the tests declare.
let testSchema = AttributeSchema([
    "country": .string, "avg_order_value": .number, "vip": .bool, "tags": .list, "signup": .timestamp,
])

/// The fixed clock of the test stores, epoch seconds.
let testClock: @Sendable () -> Int64 = { 1_700_000_000 }

/// A fresh SQLite store in a fresh directory with a fixed clock.
func makeStore(_ dir: TempDir, schema: AttributeSchema = testSchema) throws -> SQLiteStore {
    try SQLiteStore(path: dir.path("audience.sqlite"), schema: schema, clock: testClock)
}

/// Epoch ms of an ISO text (test helper).
func ms(_ iso: String) -> Int64 { try! TimestampParser.parseISO(iso).get() }

/// The store implementations the store suite runs against: SQLite always, PostgreSQL when
/// `HERALD_TEST_POSTGRES_URL` names a server (scripts/test.sh starts one and sets it).
enum TestBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// The URL of a PostgreSQL server the tests may create and drop databases on, or nil.
    static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }()

    /// Every backend available to this run.
    static var all: [TestBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// A test fixture that could not be set up.
struct FixtureError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// A fresh, empty store and ledger on one backend, and a temporary directory for input files. SQLite: one
/// file in the directory. PostgreSQL: a database of its own (`t_<uuid>`), migrated as a daemon would, dropped
/// by `Backend.with` when the test ends.
final class Backend: Sendable {
    /// The backend.
    let kind: TestBackend
    /// The audience store.
    let store: any HeraldAudience
    /// The ledger, on the same database as the store.
    let ledger: any DispatchLedger
    /// A directory for the files a test imports (and the SQLite file).
    let dir: TempDir
    private let schema: AttributeSchema
    private let postgres: PostgresFixture?

    private init(
        kind: TestBackend, store: any HeraldAudience, ledger: any DispatchLedger, dir: TempDir,
        schema: AttributeSchema, postgres: PostgresFixture?
    ) {
        self.kind = kind
        self.store = store
        self.ledger = ledger
        self.dir = dir
        self.schema = schema
        self.postgres = postgres
    }

    /// Runs `body` with a fresh store and ledger on `kind`, then removes them (even when `body` throws).
    static func with(
        _ kind: TestBackend, schema: AttributeSchema = testSchema, _ body: (Backend) async throws -> Void
    ) async throws {
        let backend = try await make(kind, schema: schema)
        do {
            try await body(backend)
        } catch {
            try? await backend.tearDown()
            throw error
        }
        try await backend.tearDown()
    }

    private static func make(_ kind: TestBackend, schema: AttributeSchema) async throws -> Backend {
        let dir = try TempDir()
        switch kind {
        case .sqlite:
            let store = try makeStore(dir, schema: schema)
            let ledger = try SQLiteLedger(pool: store.pool)
            return Backend(kind: kind, store: store, ledger: ledger, dir: dir, schema: schema, postgres: nil)
        case .postgres:
            let fixture = try await PostgresFixture.create()
            do {
                let database = try fixture.open()
                try await database.migrate(PostgresFixture.migrations)
                let store = PostgresFixture.store(database, schema: schema)
                let ledger = PostgresFixture.ledger(database)
                return Backend(kind: kind, store: store, ledger: ledger, dir: dir, schema: schema, postgres: fixture)
            } catch {
                try? await fixture.drop()
                throw error
            }
        }
    }

    /// Another store on the same data, opened as a second process would open it (its own connections).
    func reopen() throws -> any HeraldAudience {
        switch kind {
        case .sqlite: return try makeStore(dir, schema: schema)
        case .postgres:
            guard let postgres else { throw FixtureError("no PostgreSQL database") }
            return PostgresFixture.store(try postgres.open(), schema: schema)
        }
    }

    /// Opens the store again as a newer version would, running the migrations it has not yet run (SQLite: on
    /// open; PostgreSQL: `PostgresDatabase.migrate`).
    func migrateAgain() async throws -> any HeraldAudience {
        switch kind {
        case .sqlite: return try makeStore(dir, schema: schema)
        case .postgres:
            guard let postgres else { throw FixtureError("no PostgreSQL database") }
            let database = try postgres.open()
            try await database.migrate(PostgresFixture.migrations)
            return PostgresFixture.store(database, schema: schema)
        }
    }

    /// Runs one SQL statement (no parameters; rows are discarded) on the backend's database: for what the API
    /// cannot do on purpose (break an append-only table, make a batch fail half-way).
    func runSQL(_ sql: String) async throws {
        switch kind {
        case .sqlite:
            guard let sqlite = store as? SQLiteStore else { throw FixtureError("not a SQLite store") }
            try await sqlite.pool.write { try $0.execute(sql: sql) }
        case .postgres:
            guard let postgres else { throw FixtureError("no PostgreSQL database") }
            try await postgres.runSQL(sql)
        }
    }

    private func tearDown() async throws {
        try await postgres?.drop()
    }
}

/// How long a test waits, on PostgreSQL, for its own committed writes to show in a change feed.
let feedDeadline: Duration = .seconds(20)

/// Reads a change feed until `done` holds of what it returns, and returns that.
///
/// SQLite: a write is in the feeds when it returns, so `read` runs once. PostgreSQL: a committed change shows
/// once every write transaction that started before it has ended, in any database of the server (the tests
/// running in parallel hold some open); the feeds wait for that themselves, but only up to
/// `PostgresDatabase.settleTimeout`, so this polls (every 10 ms) for up to `feedDeadline`. When `done` never
/// holds, it records a failure naming `what` and returns the last value read (for the caller's own checks).
func feed<T>(
    _ kind: TestBackend, _ what: String, sourceLocation: Testing.SourceLocation = #_sourceLocation,
    _ read: () async throws -> T, until done: (T) -> Bool
) async throws -> T {
    var value = try await read()
    guard kind == .postgres else { return value }
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: feedDeadline)
    while !done(value) {
        guard clock.now < deadline else {
            Issue.record(
                "\(what): not in the change feed \(feedDeadline) after it was committed (last read: \(value))",
                sourceLocation: sourceLocation)
            return value
        }
        try await Task.sleep(for: .milliseconds(10))
        value = try await read()
    }
    return value
}

/// One throwaway PostgreSQL database for one test: created through a connection to
/// `HERALD_TEST_POSTGRES_URL`, dropped with every connection to it when the test ends.
final class PostgresFixture: Sendable {
    /// The server URL the database was created through.
    let serverURL: String
    /// The database's name, `t_` and 32 hex digits.
    let name: String
    /// The database's URL.
    let url: String
    /// Every pool opened on the database (closed before it is dropped).
    private let pools = LockedState([PostgresDatabase]())

    private init(serverURL: String, name: String, url: String) {
        self.serverURL = serverURL
        self.name = name
        self.url = url
    }

    /// Creates an empty database on the server.
    static func create() async throws -> PostgresFixture {
        guard let serverURL = TestBackend.postgresURL else {
            throw FixtureError("HERALD_TEST_POSTGRES_URL is not set")
        }
        guard var parts = URLComponents(string: serverURL) else {
            throw FixtureError("HERALD_TEST_POSTGRES_URL is not a URL: \(PostgresDatabase.redact(serverURL))")
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        parts.path = "/" + name
        guard let url = parts.string else { throw FixtureError("cannot build the URL of database \(name)") }
        try await onServer(serverURL) { try await $0.runSQL("CREATE DATABASE \(name)") }
        return PostgresFixture(serverURL: serverURL, name: name, url: url)
    }

    /// A new pool on the database.
    func open() throws -> PostgresDatabase {
        let database = try PostgresDatabase(url: url, maxConnections: 4)
        pools.withLock { $0.append(database) }
        return database
    }

    /// Runs one SQL statement on the database, on the first pool opened on it.
    func runSQL(_ sql: String) async throws {
        let database = try pools.withLock { $0.first } ?? open()
        try await database.runSQL(sql)
    }

    /// Closes every pool and drops the database (`WITH (FORCE)` ends connections still closing).
    func drop() async throws {
        for database in pools.withLock({ $0 }) { database.close() }
        let name = name
        try await Self.onServer(serverURL) { try await $0.runSQL("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// Runs `body` on a pool connected to the server's own database, closed afterwards.
    private static func onServer(_ url: String, _ body: (PostgresDatabase) async throws -> Void) async throws {
        let server = try PostgresDatabase(url: url, maxConnections: 1)
        defer { server.close() }
        try await body(server)
    }
}

extension PostgresDatabase {
    /// Runs one SQL statement on one connection, outside a transaction (CREATE and DROP DATABASE refuse one).
    func runSQL(_ sql: String) async throws {
        try await connection { _ = try await $0.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
    }
}

/// Says once, in every run, whether the store suite also ran against PostgreSQL. In CI (`CI=true`) a run
/// without PostgreSQL fails here, so the PostgreSQL half of the suite can never be skipped silently.
@Suite struct StoreSuiteBackends {
    @Test func postgreSQLIsPartOfTheRun() {
        guard TestBackend.postgresURL == nil else { return }
        let message = "PostgreSQL store suite not run: HERALD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)"
        print(message)
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record(Comment(rawValue: message + "; CI must run it"))
        }
    }
}
