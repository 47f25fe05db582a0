import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging
import Metrics
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// heraldd: opens the store and ledger, loads the campaign book, and runs the scheduler, the dispatchers, the
/// HTTP API and the systemd watchdog as one service group. SIGHUP reloads; SIGTERM drains.
public final class Daemon: Sendable {
    /// The store.
    public let store: any HeraldAudience
    /// The ledger.
    public let ledger: any DispatchLedger
    /// The live campaign book.
    public let book: LiveBook
    /// The scheduler.
    public let scheduler: Scheduler
    /// The dispatcher.
    public let dispatcher: Dispatcher
    /// This daemon's shards when several share a PostgreSQL store; nil with SQLite (one daemon holds everything).
    public let keeper: ShardKeeper?
    /// Moves journey instances.
    public let journeys: JourneyRunner
    /// Nudges the dispatchers when new rows are due.
    public let wakeup = Wakeup()
    /// Storage faults (a full disk) met by the API and the loops, logged once per interval.
    public let faults: FaultLog
    let engine: CurlEngine
    /// The APNs engine (HTTP/2, many streams on one connection), or nil to push over `engine`.
    let pushEngine: CurlEngine?
    let logger: Logger
    let environment: [String: String]
    let draining = LockedState(false)

    /// Dispatch loops running side by side (each claims its own batches).
    public static let dispatchWorkers = 4
    /// Journey instances one round of the runner claims.
    static let journeyBatch = 200

    /// A daemon over an opened store and a loaded book.
    public init(
        store: any HeraldAudience, ledger: any DispatchLedger, book: CampaignBook, engine: CurlEngine,
        pushEngine: CurlEngine? = nil, links: MessageLinks,
        clock: DaemonClock, environment: [String: String], logger: Logger, shardLease: Int64? = nil
    ) throws {
        self.store = store
        self.ledger = ledger
        self.book = LiveBook(book)
        self.engine = engine
        self.pushEngine = pushEngine
        self.logger = logger
        self.environment = environment
        faults = FaultLog(logger: logger, clock: clock.now)
        scheduler = Scheduler(store: store, ledger: ledger, book: self.book, clock: clock, logger: logger)
        let senders = try ChannelSenders(
            config: book.config.channels, baseDirectory: book.config.baseDirectory, engine: engine, pushEngine: pushEngine)
        // Unique across hosts and runs: the owner of row and shard leases.
        let owner = "heraldd-\(Self.hostName())-\(getpid())-\(Int(clock.now() * 1000))"
        keeper = shardLease.map { ShardKeeper(ledger: ledger, owner: owner, clock: clock, lease: $0, logger: logger) }
        journeys = JourneyRunner(
            store: store, ledger: ledger, book: self.book, clock: clock, keeper: keeper, logger: logger,
            population: { [scheduler] book, now in try await scheduler.population(book, now) })
        dispatcher = Dispatcher(
            store: store, ledger: ledger, book: self.book, senders: senders, links: links, clock: clock,
            logger: logger, owner: owner, keeper: keeper, faults: faults, journeys: journeys)
        scheduler.runJourneys(journeys, wakeup: wakeup)
    }

    /// Writes identify/track calls durably, then plans the event campaigns they trigger and wakes the dispatchers.
    public func ingest(users: [UserUpsert], events: [EventRecord]) async throws -> BatchResult {
        var result = BatchResult()
        if !users.isEmpty { result = result + (try await store.upsertUsers(users)) }
        guard !events.isEmpty else { return result }
        // Events that trigger a campaign are recorded as awaiting planning in the write that stores them, and
        // cleared once planned: one stored just before a crash, whose planning never ran, is planned at the next
        // start (`Scheduler.recoverEventTriggers`).
        let triggering = scheduler.triggeringEvents
        let (inserted, new) = try await store.insertEventsReportingNew(events, awaitingPlanning: triggering)
        result = result + inserted
        // Only events stored now trigger: a retried call (same messageId, or the same event) plans nothing twice.
        let fresh = new.map { events[$0] }
        if try await scheduler.handle(events: fresh) > 0 { wakeup.signal() }
        let planned = fresh.filter { triggering.contains($0.name) }
        do {
            try await store.markPlanned(planned)
        } catch {
            // The events are stored and planned: the call succeeded. The next start plans them again, which
            // records nothing new.
            logger.warning("could not clear events awaiting planning: \(error)")
        }
        return result
    }

    /// This machine's name as `gethostname` gives it (no name-service lookup, which can stall a start).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True while serving (not draining).
    public var isReady: Bool { !draining.withLock { $0 } }

    /// Reloads config, campaigns and provider secrets; on any error the old set stays live and every error
    /// is logged with its FILE:LINE:COL. Returns true when the new set is live.
    @discardableResult
    public func reload() -> Bool {
        let path = book.current.configPath
        switch CampaignBook.load(path: path, environment: environment) {
        case .failure(let failure):
            for d in failure.diagnostics { logger.error("reload refused: \(d.description)") }
            logger.error("reload refused: keeping the previous config and \(book.current.campaigns.count) campaigns")
            return false
        case .success(let new):
            do {
                let senders = try ChannelSenders(
                    config: new.config.channels, baseDirectory: new.config.baseDirectory, engine: engine,
                    pushEngine: pushEngine)
                dispatcher.swap(senders)
            } catch {
                logger.error("reload refused: \(error); keeping the previous config")
                return false
            }
            book.swap(new)
            Task { [journeys, logger] in
                do { try await journeys.saveVersions() } catch { logger.error("could not keep journey versions: \(error)") }
            }
            logger.info("reloaded", metadata: ["config": "\(path)", "campaigns": "\(new.campaigns.count)"])
            wakeup.signal()
            return true
        }
    }

    /// The scheduler and dispatch loops as services.
    func coreServices(tick: Duration = .seconds(5)) -> [any Service] {
        var services: [any Service] = []
        // First, so it stops last: the shards are given back after the dispatchers drained.
        if let keeper { services.append(ShardKeeperService(keeper: keeper, wakeup: wakeup, logger: logger)) }
        services.append(
            LoopService(name: "scheduler", idle: tick, wakeup: nil, logger: logger, faults: faults) { [scheduler, wakeup, keeper] in
                // Every daemon obeys the store's switches; only the holder of shard 0 plans scheduled occurrences.
                try await scheduler.refreshControls()
                if let keeper, !keeper.isPlanner(now: scheduler.clock.seconds) { return false }
                if try await scheduler.tick() > 0 { wakeup.signal() }
                return false
            })
        for i in 0..<Self.dispatchWorkers {
            services.append(
                LoopService(
                    name: "dispatcher-\(i)", idle: .seconds(1), wakeup: wakeup, logger: logger,
                    faults: faults) {
                    [dispatcher] in try await dispatcher.dispatchOnce() > 0
                })
        }
        // Journey instances: the due ones, found by index; a move may record a message row for the dispatchers.
        services.append(
            LoopService(name: "journeys", idle: .seconds(1), wakeup: wakeup, logger: logger, faults: faults) {
                [journeys, wakeup] in
                let moved = try await journeys.tick(limit: Self.journeyBatch)
                if moved > 0 { wakeup.signal() }
                return moved >= Self.journeyBatch
            })
        // Queue depth and rate for /metrics, under systemd or not.
        services.append(
            LoopService(name: "queue-metrics", idle: .seconds(15), wakeup: nil, logger: logger, faults: faults) { [weak self] in
                _ = await self?.status()
                return false
            })
        // Last but the watchdog: the group stops services in reverse order, so readiness drops before the drain.
        services.append(DrainFlag(daemon: self))
        return services
    }

    /// Queue depth and rate, for `STATUS=` and the logs.
    public func status() async -> String {
        let depth = (try? await ledger.queueDepth(now: Int64(Date().timeIntervalSince1970))) ?? (pending: 0, due: 0)
        Gauge(label: "herald_queue_pending").record(depth.pending)
        Gauge(label: "herald_queue_due").record(depth.due)
        Gauge(label: "herald_dispatch_rate").record(dispatcher.rate)
        var line = String(format: "queue %d (%d due), %.1f msg/s", depth.pending, depth.due, dispatcher.rate)
        if let held = keeper?.current {
            line += ", shards \(held.shards.count)/\(Shards.count) of \(held.members) daemon(s)\(held.isPlanner ? ", planner" : "")"
        }
        return line
    }
}

/// Marks the daemon not ready (`/readyz` 503) as soon as SIGTERM starts the drain, so a load balancer stops
/// sending before the API closes.
struct DrainFlag: Service, CustomStringConvertible {
    let daemon: Daemon
    var description: String { "drain-flag" }

    func run() async throws {
        try? await gracefulShutdown()
        daemon.draining.withLock { $0 = true }
    }
}
