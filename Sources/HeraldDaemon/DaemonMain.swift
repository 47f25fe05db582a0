import Foundation
import HeraldCore
import HeraldDelivery
import HeraldStore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `heraldd [--config PATH]`: the process around `Daemon`. Exit codes follow the CLI's: 64 usage, 65 invalid
/// config or campaigns, 69 a service unavailable (store, lock, secrets), 70 internal.
public enum DaemonMain {
    /// Runs heraldd with `arguments` (without the program name) until SIGTERM; returns the exit code.
    public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = environment["HERALD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return h
        }
        let logger = Logger(label: "heraldd")
        var explicit: String?
        if let i = arguments.firstIndex(of: "--config") {
            guard i + 1 < arguments.count else {
                logger.critical("--config needs a path")
                return 64
            }
            explicit = arguments[i + 1]
        }
        guard let path = HeraldConfig.locate(explicit: explicit, environment: environment) else {
            logger.critical("no herald.yaml found: pass --config PATH, set HERALD_CONFIG, or create /etc/herald/herald.yaml")
            return 64
        }
        let book: CampaignBook
        switch CampaignBook.load(path: path, environment: environment) {
        case .failure(let f):
            for d in f.diagnostics { logger.critical("\(d.description)") }
            return 65
        case .success(let b): book = b
        }
        guard case .sqlite(let dbPath) = book.config.store else {
            logger.critical("\(path): only the sqlite store is available in this build")
            return 69
        }
        let lock: InstanceLock
        let store: SQLiteStore
        let ledger: SQLiteLedger
        do {
            try FileManager.default.createDirectory(
                atPath: (dbPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard let l = InstanceLock(path: dbPath + ".heraldd.lock") else {
                logger.critical("another heraldd is running on \(dbPath) (one daemon per SQLite store)")
                return 69
            }
            lock = l
            store = try SQLiteStore(path: dbPath, schema: book.config.attributes)
            ledger = try SQLiteLedger(pool: store.pool)
        } catch {
            logger.critical("cannot open the store at \(dbPath): \(error)")
            return 69
        }
        CurlEngine.initializeLibrary()
        // At most 32 connections per host: many sends in flight without flooding one receiver's accept queue.
        let engine = CurlEngine(maxConnections: 256, maxPerHost: 32, logger: Logger(label: "herald.curl"))
        defer { engine.shutdown() }
        let daemon: Daemon
        do {
            daemon = try Daemon(
                store: store, ledger: ledger, book: book, engine: engine, links: .none, clock: .system,
                environment: environment, logger: logger)
            let released = try await ledger.releaseLeases(notOwnedBy: daemon.dispatcher.owner)
            if released > 0 { logger.warning("reclaiming \(released) sends left in flight by a previous run") }
        } catch {
            logger.critical("cannot start: \(error)")
            return 69
        }
        let notifier = SystemdNotifier(environment: environment)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        signal(SIGHUP, SIG_IGN)
        hup.setEventHandler {
            notifier.reloading()
            let ok = daemon.reload()
            // READY=1 always follows RELOADING=1, also when the reload was refused and the old set stays live.
            notifier.send([("READY", "1"), ("STATUS", ok ? "reloaded" : "reload refused; previous config live")])
        }
        hup.resume()
        // The watchdog goes last: the group stops services in reverse order, so it announces STOPPING=1 first.
        let watchdog = WatchdogService(notifier: notifier, logger: logger) { await daemon.status() }
        var configuration = ServiceGroupConfiguration(
            services: (daemon.coreServices() + [watchdog]).map { .init(service: $0) }, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        configuration.maximumGracefulShutdownDuration = .seconds(8)
        configuration.maximumCancellationDuration = .seconds(1)
        let group = ServiceGroup(configuration: configuration)
        let counts = (try? await store.counts()) ?? (users: 0, events: 0)
        logger.info(
            "serving",
            metadata: [
                "config": "\(path)", "store": "\(dbPath)", "users": "\(counts.users)",
                "campaigns": "\(book.active.count) active of \(book.campaigns.count)",
            ])
        notifier.ready()
        do {
            try await group.run()
        } catch {
            logger.error("stopped on error: \(error)")
            withExtendedLifetime(lock) {}
            return 70
        }
        logger.info("stopped")
        withExtendedLifetime(lock) {}
        return 0
    }
}
