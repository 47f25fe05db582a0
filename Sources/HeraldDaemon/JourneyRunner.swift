import HeraldCore
import HeraldLedger
import Logging

/// Moves journey instances through their steps (docs/journeys.md, "How an instance moves"). Instances live in
/// the store; the runner claims the due ones by index, takes each as far as it can go now — a message step
/// is decided by the one decision pipeline and recorded in the ledger, keyed `journey/instance/user/step` —
/// and writes the move with a compare-and-set, so a step runs at most once per instance across crashes,
/// reloads and daemons.
public final class JourneyRunner: Sendable {
    let store: any HeraldAudience
    let ledger: any DispatchLedger
    let book: LiveBook
    let clock: DaemonClock
    let keeper: ShardKeeper?
    let logger: Logger
    /// The RFM population single-user planning reads (the scheduler's cache).
    let population: @Sendable (CampaignBook, Int64) async throws -> PopulationStats
    /// Definitions of older versions read back from the store, by "journey/version".
    let versions = LockedState([String: JourneyDefinition]())
    /// Versions this runner has kept in the store, by "journey/version".
    let saved = LockedState(Set<String>())

    /// How long a claimed instance is held before another runner may take it (a runner that died).
    static let lease: Int64 = 60
    /// How often a message step looks at its ledger row until the row is done (one keyed read).
    static let messagePoll: Int64 = 2
    /// How often a step held back by a cap (`on_capped: defer`) tries again inside its window.
    static let capRetry: Int64 = 300
    /// Most steps one instance takes in one go (a guard: the graph is acyclic, so this is never reached).
    static let maxHops = 64

    /// A runner; `population` gives the RFM population single-user planning reads.
    public init(
        store: any HeraldAudience, ledger: any DispatchLedger, book: LiveBook, clock: DaemonClock, keeper: ShardKeeper?,
        logger: Logger, population: @escaping @Sendable (CampaignBook, Int64) async throws -> PopulationStats
    ) {
        self.store = store
        self.ledger = ledger
        self.book = book
        self.clock = clock
        self.keeper = keeper
        self.logger = logger
        self.population = population
    }

    /// Keeps the text of every loaded journey's version in the store, so instances keep running on it.
    public func saveVersions() async throws {
        for j in book.current.journeys { try await keepVersion(j) }
    }

    /// Keeps `j`'s version text in the store, once per runner.
    func keepVersion(_ j: JourneyDefinition) async throws {
        let key = j.id + "/" + j.version.hex
        guard !saved.withLock({ $0.contains(key) }) else { return }
        try await ledger.saveJourneyVersion(journey: j.id, version: j.version.hex, file: j.file, source: j.source)
        saved.withLock { _ = $0.insert(key) }
    }

    /// The definition an instance runs on: its own version, from the loaded book or read back from the store.
    func definition(_ i: JourneyInstance, _ book: CampaignBook) async throws -> JourneyDefinition? {
        if let j = book.journey(i.journey), j.version.hex == i.version { return j }
        let key = i.journey + "/" + i.version
        if let j = versions.withLock({ $0[key] }) { return j }
        let (found, error) = try await ledger.definition(of: i, loaded: nil, config: book.config)
        guard let j = found else {
            if let error {
                logger.error(
                    "a kept journey version no longer loads",
                    metadata: ["journey": "\(i.journey)", "version": "\(i.version)", "error": "\(error)"])
            }
            return nil
        }
        versions.withLock { $0[key] = j }
        return j
    }

    // MARK: Entering

    /// Starts instances of the active journeys triggered by `events` (just stored, new) for users in their
    /// audience; returns how many started.
    @discardableResult
    public func enter(events: [EventRecord]) async throws -> Int {
        let current = book.current
        let journeys = current.journeys.filter { $0.status == .active }
        guard !journeys.isEmpty else { return 0 }
        let now = clock.seconds
        var entries: [(instance: JourneyInstance, reEntryAfter: Int64?)] = []
        for event in events {
            for j in journeys {
                guard case .event(let name, let delay, _) = j.trigger, name == event.name else { continue }
                let at = secondsOf(millis: event.timestampMillis)
                guard try await inAudience(j, user: event.userID, book: current, now: now) else { continue }
                let start = at + delay
                try await keepVersion(j)
                entries.append(
                    (
                        JourneyInstance(
                            journey: j.id, id: Scheduler.eventOccurrence(at), user: event.userID,
                            version: j.version.hex, step: j.firstStep.id, reachedAt: max(start, now),
                            dueAt: max(start, now), enteredAt: now),
                        j.reEntry.seconds
                    ))
            }
        }
        return try await ledger.enterJourneys(entries).filter { $0 }.count
    }

    /// True when `user` matches the journey's audience (and not its exclude) at `now`.
    func inAudience(_ j: JourneyDefinition, user: String, book: CampaignBook, now: Int64) async throws -> Bool {
        guard let facts = try await store.facts(id: user) else { return false }
        let env = EvaluationEnvironment(
            now: now, lifecycle: book.config.lifecycle, defaultTimeZone: book.config.policy.defaultTimezone)
        let population = try await population(book, now)
        guard j.audience.segment.matches(facts, env, population: population) else { return false }
        if let ex = j.audience.exclude, ex.matches(facts, env, population: population) { return false }
        return true
    }

    // MARK: Events on running instances

    /// Applies stored events to the users' running instances: an `exit_when` event ends the instance
    /// (`exited:<event>`); a `wait_for` event that happened at or after the step was reached takes `on_event`.
    /// Returns how many instances moved.
    @discardableResult
    public func handle(events: [EventRecord]) async throws -> Int {
        let current = book.current
        guard !current.journeys.isEmpty else { return 0 }
        let now = clock.seconds
        var moved = 0
        for (user, batch) in Dictionary(grouping: events, by: \.userID) {
            for i in try await ledger.activeInstances(user: user) {
                guard let j = try await definition(i, current),
                    let move = JourneyEvents.move(i, of: j, events: batch, now: now)
                else { continue }
                if try await ledger.moveInstance(move.instance, expectedMoves: move.expectedMoves, records: move.records) {
                    moved += 1
                }
            }
        }
        return moved
    }

    /// Points `instance` at `target`, reached at `now` and due at once (or ended, for `exit`).
    static func go(_ instance: inout JourneyInstance, to target: JourneyTarget, at now: Int64) {
        instance.go(to: target, at: now)
    }
}

extension JourneyDefinition.ReEntry {
    /// The store's re-entry rule: nil for never, 0 for always, else the seconds that must pass.
    var seconds: Int64? {
        switch self {
        case .never: nil
        case .always: 0
        case .after(let d): d
        }
    }
}

extension JourneyRunner {
    /// What the dispatcher does with a claimed row of a journey's message step.
    enum RowVerdict {
        /// Send it as this campaign (the step's message, the journey's topic and limits).
        case send(Campaign)
        /// Its instance ended (an `exit_when` event, a stop): cancel the row with this reason.
        case cancel(String)
    }

    /// The verdict for a claimed row whose campaign id names a journey (nil when none does): the row's
    /// instance and step are in its occurrence (`instance/step`).
    func verdict(for row: LedgerEntry, book: CampaignBook) async throws -> RowVerdict? {
        let journeyKnown = book.journey(row.campaign) != nil
        guard let occurrence = row.occurrence, let slash = occurrence.lastIndex(of: "/") else { return nil }
        let instanceID = String(occurrence[..<slash])
        let stepID = String(occurrence[occurrence.index(after: slash)...])
        let instances = try await ledger.journeyInstances(journey: row.campaign, user: row.user)
        guard let instance = instances.first(where: { $0.id == instanceID }) else {
            return journeyKnown ? .cancel(SkipReason.campaignRemoved.description) : nil
        }
        if instance.status != .active { return .cancel(instance.status.rawValue) }
        guard let j = try await definition(instance, book), let step = j.step(stepID),
            let campaign = j.messageCampaign(for: step)
        else { return .cancel(SkipReason.campaignRemoved.description) }
        return .send(campaign)
    }
}
