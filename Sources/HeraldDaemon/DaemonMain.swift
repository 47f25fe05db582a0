import Foundation
import HeraldCore
import HeraldDelivery
import HeraldPostgres
import HeraldLedger
import HeraldSQLite
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `heraldd [--config PATH]`: the process around `Daemon`. Exit codes follow the CLI's: 64 usage, 65 invalid
/// config or campaigns, 69 a service unavailable (store, lock, secrets), 70 internal.
public enum DaemonMain {
    /// How long a daemon holds its shards of a PostgreSQL store without renewing, seconds: a killed daemon's
    /// shards move to the others within this after its last renewal, plus the keepers' one-second round.
    public static let shardLease: Int64 = 15

    /// heraldd's log handler over `base` (stderr, one line per record): at `HERALD_LOG_LEVEL` (default info),
    /// with control characters from outside shown escaped, so that no log line can be split or forged.
    public static func logHandler(_ base: StreamLogHandler, environment: [String: String]) -> EscapingLogHandler {
        var h = EscapingLogHandler(base)
        h.logLevel = environment["HERALD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return h
    }

    /// Runs heraldd with `arguments` (without the program name) until SIGTERM; returns the exit code.
    public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        LoggingSystem.bootstrap { label in logHandler(.standardError(label: label), environment: environment) }
        let logger = Logger(label: "heraldd")
        let path: String
        let book: CampaignBook
        switch loadBook(arguments: arguments, environment: environment, logger: logger) {
        case .failure(let exit): return exit.code
        case .success(let loaded): (path, book) = loaded
        }
        let backend: OpenedBackend
        switch await openBackend(book.config, logger: logger) {
        case .failure(let exit): return exit.code
        case .success(let b): backend = b
        }
        defer { withExtendedLifetime(backend.lock) {} }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let secrets: Secrets
        do {
            secrets = try Secrets(book.config)
        } catch {
            logger.critical("\(error)")
            return 69
        }
        CurlEngine.initializeLibrary()
        // At most 32 connections per host: many sends in flight without flooding one receiver's accept queue.
        let engine = CurlEngine(maxConnections: 256, maxPerHost: 32, logger: Logger(label: "herald.curl"))
        defer { engine.shutdown() }
        // APNs: one HTTP/2 connection with many streams (docs/push.md); made once, kept across reloads.
        let pushEngine = APNsSender.engine(logger: Logger(label: "herald.apns"))
        defer { pushEngine.shutdown() }
        let daemon: Daemon
        do {
            daemon = try await startDaemon(book: book, backend: backend, engine: engine, pushEngine: pushEngine, secrets: secrets,
                                           environment: environment, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            return 69
        }
        let group = ServiceGroup(
            configuration: await serviceGroup(
                daemon: daemon, book: book, backend: backend, secrets: secrets, registry: registry,
                environment: environment, logger: logger))
        let counts = (try? await backend.store.counts()) ?? (users: 0, events: 0)
        logger.info(
            "serving",
            metadata: [
                "config": "\(path)", "store": "\(backend.label)", "users": "\(counts.users)",
                "campaigns": "\(book.active.count) active of \(book.campaigns.count)",
            ])
        do {
            try await group.run()
        } catch {
            logger.error("stopped on error: \(error)")
            return 70
        }
        logger.info("stopped")
        return 0
    }

    /// An exit code with its reason already logged.
    struct Exit: Error {
        let code: Int32
    }

    /// Finds herald.yaml (`--config`, `HERALD_CONFIG`, /etc/herald) and loads it with its campaigns; every
    /// diagnostic is logged.
    static func loadBook(arguments: [String], environment: [String: String], logger: Logger)
        -> Result<(path: String, book: CampaignBook), Exit>
    {
        var explicit: String?
        if let i = arguments.firstIndex(of: "--config") {
            guard i + 1 < arguments.count else {
                logger.critical("--config needs a path")
                return .failure(Exit(code: 64))
            }
            explicit = arguments[i + 1]
        }
        guard let path = HeraldConfig.locate(explicit: explicit, environment: environment) else {
            logger.critical("no herald.yaml found: pass --config PATH, set HERALD_CONFIG, or create /etc/herald/herald.yaml")
            return .failure(Exit(code: 64))
        }
        switch CampaignBook.load(path: path, environment: environment) {
        case .failure(let f):
            for d in f.diagnostics { logger.critical("\(d.description)") }
            return .failure(Exit(code: 65))
        case .success(let b): return .success((path, b))
        }
    }

    /// The store and ledger heraldd runs on, and what keeps them.
    struct OpenedBackend {
        let store: any HeraldAudience
        let ledger: any DispatchLedger
        /// The store for logs: a file path, or a URL without its password.
        let label: String
        /// Several daemons share a PostgreSQL store through shard leases; one daemon owns a SQLite store.
        let shardLease: Int64?
        /// The SQLite store's one-daemon lock, held until heraldd exits.
        let lock: InstanceLock?
        /// The PostgreSQL pool, closed by the service group after every other service stopped.
        let postgres: PostgresDatabase?
    }

    /// Opens (and migrates) the configured store; a failure is logged and is exit 69.
    static func openBackend(_ config: HeraldConfig, logger: Logger) async -> Result<OpenedBackend, Exit> {
        switch config.store {
        case .sqlite(let dbPath):
            do {
                try FileManager.default.createDirectory(
                    atPath: (dbPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard let lock = try InstanceLock(path: InstanceLock.path(forStore: dbPath)) else {
                    logger.critical("another heraldd is running on \(dbPath) (one daemon per SQLite store)")
                    return .failure(Exit(code: 69))
                }
                let sqlite = try SQLiteStore(path: dbPath, schema: config.attributes)
                return .success(
                    OpenedBackend(
                        store: sqlite, ledger: try SQLiteLedger(pool: sqlite.pool), label: dbPath, shardLease: nil,
                        lock: lock, postgres: nil))
            } catch {
                logger.critical("cannot open the store at \(dbPath): \(error)")
                return .failure(Exit(code: 69))
            }
        case .postgres(let url):
            let label = PostgresDatabase.redact(url)
            do {
                let database = try PostgresDatabase(url: url, logger: Logger(label: "herald.postgres"))
                let (store, ledger) = try await PostgresBackend.open(database, schema: config.attributes)
                return .success(
                    OpenedBackend(
                        store: store, ledger: ledger, label: label, shardLease: Self.shardLease, lock: nil,
                        postgres: database))
            } catch {
                logger.critical("cannot open the store at \(label): \(error)")
                return .failure(Exit(code: 69))
            }
        }
    }

    /// Builds the daemon and brings its state up to date before the first round: sends a previous run left
    /// in flight are released, shards are taken (so the planner plans at once), event triggers left
    /// unplanned are recovered.
    static func startDaemon(
        book: CampaignBook, backend: OpenedBackend, engine: CurlEngine, pushEngine: CurlEngine? = nil, secrets: Secrets,
        environment: [String: String], logger: Logger
    ) async throws -> Daemon {
        let daemon = try Daemon(
            store: backend.store, ledger: backend.ledger, book: book, engine: engine, pushEngine: pushEngine,
            links: .signed(by: secrets.signer, config: book.config), clock: .system,
            environment: environment, logger: logger, shardLease: backend.shardLease)
        let released = try await backend.ledger.releaseLeases(notOwnedBy: daemon.dispatcher.owner)
        if released > 0 { logger.warning("reclaiming \(released) sends left in flight by a previous run") }
        try await daemon.keeper?.renew()
        try await daemon.journeys.saveVersions()
        try await daemon.scheduler.recoverEventTriggers()
        return daemon
    }

    /// The services of one heraldd, in start order (the group stops them in reverse): the PostgreSQL pool
    /// first so it closes last, the API, SIGHUP reloads, the daemon's loops, and the watchdog last so that it
    /// announces STOPPING=1 first.
    static func serviceGroup(
        daemon: Daemon, book: CampaignBook, backend: OpenedBackend, secrets: Secrets,
        registry: PrometheusCollectorRegistry, environment: [String: String], logger: Logger
    ) async -> ServiceGroupConfiguration {
        let notifier = SystemdNotifier(environment: environment)
        let reloader = ReloadService(
            hangups: await UnixSignalsSequence(trapping: .sighup), notifier: notifier, reload: { daemon.reload() })
        let watchdog = WatchdogService(notifier: notifier, logger: logger) { await daemon.status() }
        let api = HeraldAPI.makeApplication(
            APIDependencies(
                config: book.config, store: backend.store, ledger: backend.ledger, backend: daemon,
                signer: secrets.signer, apiToken: secrets.apiToken, smsInboundSecret: secrets.smsInboundSecret,
                twilioAuthToken: secrets.twilioAuthToken, metrics: registry, logger: Logger(label: "herald.api"),
                faults: daemon.faults, console: daemon.console(token: secrets.apiToken)),
            onServerRunning: { port in
                logger.info("api listening", metadata: ["address": "\(book.config.api.host):\(port)"])
                notifier.ready()
            })
        if book.config.api.tokenFile == nil, case .sqlite(let db) = book.config.store {
            let path = (db as NSString).deletingLastPathComponent + "/api-token"
            logger.notice("api.token_file is not set: /v1/* takes the bearer token generated in \(path)")
        }
        var services: [any Service] = []
        if let postgres = backend.postgres { services.append(PostgresPoolService(database: postgres)) }
        services += [api, reloader] + daemon.coreServices() + [watchdog]
        var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        configuration.maximumGracefulShutdownDuration = .seconds(8)
        configuration.maximumCancellationDuration = .seconds(1)
        return configuration
    }
}

/// The secrets heraldd reads at start: the API's bearer token, the link-signing key, the inbound SMS secret
/// and Twilio's auth token. Never logged; a missing or unreadable file is an error naming the field.
struct Secrets {
    let apiToken: String?
    let signer: LinkSigner
    let smsInboundSecret: String?
    let twilioAuthToken: String?

    init(_ config: HeraldConfig) throws {
        func read(_ path: String?, _ field: String) throws -> String? {
            guard let path else { return nil }
            return try SecretFile.read(path, field: field).get().trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let file = config.api.tokenFile {
            apiToken = try read(file, "api.token_file")
        } else {
            apiToken = try Self.generatedToken(config)
        }
        signer = LinkSigner(key: try LinkSigner.loadKey(config: config))
        smsInboundSecret = try read(config.channels.sms?.inboundSecretFile, "channels.sms.inbound_secret_file")
        twilioAuthToken =
            config.channels.sms?.provider == .twilio
            ? try read(config.channels.sms?.passwordFile, "channels.sms.password_file") : nil
    }
}

extension Secrets {
    /// The bearer token kept beside the SQLite store (`api-token`, mode 0600) when `api.token_file` is not
    /// set: created with 32 random bytes on first start, so a fresh install is never an open API.
    static func generatedToken(_ config: HeraldConfig) throws -> String? {
        guard case .sqlite(let db) = config.store else {
            throw TokenRequired()
        }
        let path = (db as NSString).deletingLastPathComponent + "/api-token"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw SecretFileError(path: path) }
        return token
    }

    /// With PostgreSQL, daemons on several machines must accept the same token: it cannot be generated locally.
    struct TokenRequired: Error, CustomStringConvertible {
        var description: String {
            "api.token_file is required with a PostgreSQL store: every daemon must accept the same bearer token"
        }
    }

    /// A secret file that could not be created.
    struct SecretFileError: Error, CustomStringConvertible {
        let path: String
        var description: String { "cannot create the API token file \(path)" }
    }
}
