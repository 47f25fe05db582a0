import Foundation
import HeraldCore
import HeraldPostgres
import HeraldLedger
import HeraldSQLite
import Testing

import struct Logging.Logger
import struct PostgresNIO.PostgresQuery

/// `herald store migrate` against the built binary. The tests that copy need a PostgreSQL server:
/// `HERALD_TEST_POSTGRES_URL` (e.g. `postgres://herald@127.0.0.1:55432/herald`); each makes its own database.
@Suite("herald store migrate", .serialized)
struct StoreMigrateTests {
    static let serverURL = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"]

    /// A project whose store holds the sample audience (`herald sample` + imports, as an operator would).
    static func project(users: Int = 200) throws -> CLIHarness {
        let h = try CLIHarness.make()
        let sample = try h.run([
            "sample", "--users", "\(users)", "--now", "2026-11-01T00:00:00Z", "--out", "var/sample",
        ])
        #expect(sample.status == 0, "\(sample.stderr)")
        for (kind, file) in [("users", "users"), ("events", "events")] {
            let r = try h.run([kind, "import", "var/sample/\(file).ndjson"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        return h
    }

    /// Runs `body` with a fresh database on the test server, dropped afterwards.
    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let base = try #require(serverURL)
        let admin = try PostgresDatabase(url: base, maxConnections: 1)
        defer { admin.close() }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin.connection { c in
            _ = try await c.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
        }
        var parts = try #require(URLComponents(string: base))
        parts.path = "/" + name
        let url = try #require(parts.string)
        var failure: (any Error)?
        do { try await body(url) } catch { failure = error }
        _ = try? await admin.connection { c in
            try await c.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: Logger(label: "test"))
        }
        if let failure { throw failure }
    }

    @Test(
        "copies the configured store, prints the verification table, and refuses a second run",
        // Needs a PostgreSQL server: set HERALD_TEST_POSTGRES_URL.
        .enabled(if: serverURL != nil))
    func migratesThenRefuses() async throws {
        let h = try Self.project()
        defer { h.remove() }
        try await Self.withDatabase { url in
            let first = try h.run(["store", "migrate", "--to", url])
            #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            #expect(first.stdout.contains("verified"))
            for table in ["users", "events", "user_attributes", "event_numbers"] {
                let line = first.stdout.split(separator: "\n").first { $0.hasPrefix(table + " ") }
                #expect(line?.hasSuffix("ok") == true, "\(table): \(first.stdout)")
            }
            let second = try h.run(["store", "migrate", "--to", url, "--format", "json"])
            #expect(second.status == 65)
            #expect(second.stderr.contains("already holds Herald data"), "\(second.stderr)")
            #expect(second.stdout.isEmpty)
        }
    }

    @Test("a missing source is refused before connecting")
    func missingSource() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        let r = try h.run([
            "store", "migrate", "--to", "postgres://herald@127.0.0.1:1/x", "--from", "var/none.db",
        ])
        #expect(r.status == 65)
        #expect(r.stderr.contains("no SQLite store at var/none.db"), "\(r.stderr)")
    }

    @Test("an unreachable server or a bad URL fails clearly without printing the password")
    func badTarget() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.root + "/var", withIntermediateDirectories: true)
        _ = try SQLiteStore(path: h.root + "/var/herald.db")
        let unreachable = try h.run([
            "store", "migrate", "--to", "postgres://herald:s3cret@127.0.0.1:1/herald?sslmode=disable",
        ])
        #expect(unreachable.status == 69)
        #expect(
            unreachable.stderr.contains("postgres://herald:***@127.0.0.1:1/herald"), "\(unreachable.stderr)")
        #expect(!(unreachable.stdout + unreachable.stderr).contains("s3cret"))
        let malformed = try h.run(["store", "migrate", "--to", "mysql://herald:s3cret@127.0.0.1/herald"])
        #expect(malformed.status == 64)
        #expect(malformed.stderr.contains("not a PostgreSQL URL"), "\(malformed.stderr)")
        #expect(!(malformed.stdout + malformed.stderr).contains("s3cret"))
    }

    @Test("refuses while heraldd holds the store's instance lock")
    func daemonRunning() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.root + "/var", withIntermediateDirectories: true)
        _ = try SQLiteStore(path: h.root + "/var/herald.db")
        let fd = open(h.root + "/var/herald.db.heraldd.lock", O_CREAT | O_RDWR, 0o600)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let r = try h.run(["store", "migrate", "--to", "postgres://herald@127.0.0.1:1/herald"])
        #expect(r.status == 69)
        #expect(r.stderr.contains("heraldd is running"), "\(r.stderr)")
    }
}
