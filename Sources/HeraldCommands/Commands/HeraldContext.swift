import ArgumentParser
import Foundation
import HeraldCore
import HeraldPostgres
import HeraldLedger
import HeraldSQLite

/// What most commands need: the loaded config, and from it the store and the campaigns.
struct HeraldContext {
    /// The config file used.
    let configPath: String
    /// The validated config.
    let config: HeraldConfig

    /// Finds and loads the config; prints diagnostics and fails with 64 (none found) or 65 (invalid).
    static func load(_ option: ConfigOption) throws -> HeraldContext {
        let env = ProcessInfo.processInfo.environment
        guard let path = HeraldConfig.locate(explicit: option.config, environment: env) else {
            Console.err(
                "error: no herald.yaml found: pass --config PATH, set HERALD_CONFIG, or create ./herald.yaml or /etc/herald/herald.yaml"
            )
            throw ReportedFailure(code: ExitStatus.usage)
        }
        let (config, diagnostics) = HeraldConfig.load(path: path, environment: env)
        let failed = report(diagnostics)
        guard let config, !failed else { throw ReportedFailure(code: ExitStatus.invalidInput) }
        return HeraldContext(configPath: path, config: config)
    }

    /// Opens the configured store and its ledger: the SQLite file (without migrating the ledger: a store no daemon
    /// has run on has an empty one), or the PostgreSQL database (migrated, as the daemons do).
    func openBackend() async throws -> (store: any HeraldAudience, ledger: any DispatchLedger) {
        switch config.store {
        case .sqlite(let path):
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let store = try SQLiteStore(path: path, schema: config.attributes)
                return (store, try SQLiteLedger(pool: store.pool, migrate: false))
            } catch {
                Console.err("error: cannot open the store at \(path): \(error)")
                throw ReportedFailure(code: ExitStatus.unavailable)
            }
        case .postgres(let url):
            do {
                let database = try PostgresDatabase(url: url)
                return try await PostgresBackend.open(database, schema: config.attributes)
            } catch {
                Console.err("error: cannot open the store at \(PostgresDatabase.redact(url)): \(error)")
                throw ReportedFailure(code: ExitStatus.unavailable)
            }
        }
    }

    /// Opens the configured store.
    func openStore() async throws -> any HeraldAudience { try await openBackend().store }

    /// The campaigns of the configured folder, with their diagnostics.
    func campaigns() -> (campaigns: [Campaign], diagnostics: [Diagnostic]) {
        CampaignSet.load(directory: config.campaignsDirectory, config: config)
    }

    /// The evaluation environment at `now`.
    func environment(now: Int64) -> EvaluationEnvironment {
        EvaluationEnvironment(
            now: now, lifecycle: config.lifecycle, defaultTimeZone: config.policy.defaultTimezone)
    }
}
