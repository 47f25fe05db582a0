import ArgumentParser
import Foundation
import HeraldCore
import HeraldPostgres
import HeraldLedger
import HeraldSQLite
import HeraldMigration
import Logging

/// `herald store …`: the store as a whole.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Manage the store as a whole (move it to PostgreSQL).",
        subcommands: [StoreMigrateCommand.self])
}

/// `herald store migrate --to postgres://…`: copies the SQLite store into an empty PostgreSQL database and
/// verifies every table by row count and checksum.
struct StoreMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Copy the SQLite store (audience and ledger) into an empty PostgreSQL database, then verify it.",
        discussion: """
            Stop heraldd first. The target database must exist and hold no Herald data; its schema is created
            when missing. Everything is copied in one transaction (a failure leaves the target empty), then every
            table is compared row by row (count and SHA-256 over the rows in key order).
            Afterwards point store.postgres in herald.yaml at the target.

            Example:
              herald store migrate --to postgres://herald@127.0.0.1:5432/herald

            Exit codes: 0 copied and verified; 64 bad URL; 65 no source, target not empty, or a row that does not
            fit; 69 heraldd running or PostgreSQL unreachable; 70 verification found a difference.
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The PostgreSQL database to fill (postgres://user[:password]@host[:port]/database).")
    var to: String
    @Option(help: "The SQLite store to read (default: the config's store.sqlite).")
    var from: String?
    @Option(help: "table, or json: one object per table, then a summary object.")
    var format: OutputFormat = .table

    func run() async throws {
        let path = try sourcePath()
        guard FileManager.default.fileExists(atPath: path) else {
            Console.err("error: no SQLite store at \(path) (nothing to migrate)")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        // Held until the copy is verified, so heraldd cannot start on the source meanwhile.
        // A lock file that cannot be created (a read-only folder, where no daemon can run either) holds nothing.
        let taken = Result { try InstanceLock(path: InstanceLock.path(forStore: path)) }
        if case .success(nil) = taken {
            Console.err(
                "error: heraldd is running on \(path): stop it first (e.g. systemctl stop heraldd), then run again"
            )
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
        defer { withExtendedLifetime(taken) {} }
        let target: PostgresDatabase
        do {
            // The pool logs every failed connection attempt; the error below says it once.
            var logger = Logger(label: "herald.migrate")
            logger.logLevel = .error
            target = try PostgresDatabase(url: to, maxConnections: 4, logger: logger)
        } catch {
            Console.err("error: --to: \(error)")
            throw ReportedFailure(code: ExitStatus.usage)
        }
        defer { target.close() }
        let copier: SQLiteToPostgres
        do {
            copier = try SQLiteToPostgres(sourcePath: path, target: target)
        } catch {
            Console.err("error: cannot open the store at \(path): \(error)")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
        let started = Date()
        let progress = ProgressLine(label: "copying")
        let results: [MigratedTable]
        var copySeconds = 0.0
        do {
            try await SQLiteToPostgres.checkReachable(target)
            try await target.migrate(SQLiteToPostgres.targetMigrations)
            let plans = try await copier.plan()
            let expected = max(1, plans.reduce(0) { $0 + $1.sourceRows })
            try await copier.copy(plans) { _, rows in
                progress.update(done: Int64(rows), total: Int64(expected), rows: rows)
            }
            progress.finish()
            copySeconds = Date().timeIntervalSince(started)
            results = try await copier.verify(plans)
        } catch let e as StoreMigrationError {
            progress.finish()
            Console.err("error: \(e.description)")
            throw ReportedFailure(
                code: e.kind == .unreachable ? ExitStatus.unavailable : ExitStatus.invalidInput)
        } catch {
            progress.finish()
            Console.err("error: \(target.displayURL): \(SQLiteToPostgres.describe(error))")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        let rows = results.reduce(0) { $0 + $1.targetRows }
        let failed = results.filter { !$0.ok }
        if format == .json {
            for r in results {
                var line = JSONLine()
                line.add("table", r.table)
                line.add("source_rows", r.sourceRows)
                line.add("target_rows", r.targetRows)
                line.add("source_sha256", r.sourceChecksum)
                line.add("target_sha256", r.targetChecksum)
                line.add("ok", r.ok)
                Console.out(line.text)
            }
            var summary = JSONLine()
            summary.add("from", path)
            summary.add("to", target.displayURL)
            summary.add("rows", rows)
            summary.add("seconds", seconds)
            summary.add("copy_seconds", copySeconds)
            summary.add("ok", failed.isEmpty)
            Console.out(summary.text)
        } else {
            var table = TextTable(header: ["table", "rows", "checksum", "ok"])
            for r in results {
                table.add([
                    r.table, r.ok ? String(r.targetRows) : "\(r.sourceRows) → \(r.targetRows)",
                    r.ok
                        ? String(r.targetChecksum.prefix(16))
                        : "\(r.sourceChecksum.prefix(12)) → \(r.targetChecksum.prefix(12))",
                    r.ok ? "ok" : "MISMATCH",
                ])
            }
            table.render().forEach(Console.out)
            Console.out(
                "\(rows) rows from \(path) to \(target.displayURL) in \(String(format: "%.1f", seconds)) s "
                    + "(\(Int(Double(rows) / seconds)) rows/s; copy \(String(format: "%.1f", copySeconds)) s, "
                    + "verification \(String(format: "%.1f", seconds - copySeconds)) s)")
        }
        guard failed.isEmpty else {
            Console.err(
                "error: verification failed for \(failed.map(\.table).joined(separator: ", ")): the target differs from the source"
            )
            throw ReportedFailure(code: ExitStatus.internalError)
        }
        if format == .table {
            Console.out("verified; now set store.postgres: <url> in herald.yaml in place of store.sqlite")
        }
    }

    /// The SQLite file to read: `--from`, else the config's `store.sqlite`.
    private func sourcePath() throws -> String {
        if let from { return from }
        let context = try HeraldContext.load(options)
        guard case .sqlite(let path) = context.config.store else {
            Console.err(
                "error: \(context.configPath) has no store.sqlite: pass --from PATH to the SQLite store")
            throw ReportedFailure(code: ExitStatus.usage)
        }
        return path
    }
}
