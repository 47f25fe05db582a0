import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging
import Metrics

/// The links a message carries, signed by the daemon: one-click unsubscribe, the SMS gateway's delivery-report
/// URL, and open/click tracking in HTML.
public struct MessageLinks: Sendable {
    /// The unsubscribe URL for (user, campaign, key); nil for none.
    public var unsubscribe: @Sendable (_ user: String, _ campaign: Campaign, _ key: String) -> String?
    /// The delivery-report URL for an SMS with this key sent at `now` (its token expires); nil for none.
    public var statusCallback: @Sendable (_ key: String, _ now: Int64) -> String?
    /// The HTML body with tracked links and an open pixel.
    public var decorateHTML: @Sendable (_ html: String, _ user: String, _ campaign: Campaign, _ key: String) -> String

    /// Links from closures.
    public init(
        unsubscribe: @escaping @Sendable (String, Campaign, String) -> String?,
        statusCallback: @escaping @Sendable (String, Int64) -> String?,
        decorateHTML: @escaping @Sendable (String, String, Campaign, String) -> String
    ) {
        self.unsubscribe = unsubscribe
        self.statusCallback = statusCallback
        self.decorateHTML = decorateHTML
    }

    /// No links (tests that do not look at them).
    public static let none = MessageLinks(
        unsubscribe: { _, _, _ in nil }, statusCallback: { _, _ in nil }, decorateHTML: { html, _, _, _ in html })
}

/// Claims due ledger rows with a lease, rechecks consent, caps and `cancel_if` against fresh reads, renders,
/// sends through `ChannelSenders` and records every status change (docs/decisions.md, docs/ledger.md, docs/architecture.md).
///
/// A crash leaves claimed rows `sending` with a lease; they are claimed again when it expires (or at once
/// when the next daemon on the same SQLite store starts). The one window where a message can go out twice is
/// "the provider accepted it, the process died before the ledger write": receivers de-duplicate it by
/// `webhook-id` / `Message-ID`, which are the idempotency key.
public final class Dispatcher: Sendable {
    let store: any HeraldAudience
    let ledger: any DispatchLedger
    let book: LiveBook
    let senders: LockedState<ChannelSenders>
    let links: MessageLinks
    let clock: DaemonClock
    let logger: Logger
    /// This dispatcher's lease owner name (unique per process run).
    public let owner: String
    /// Rows claimed per round.
    public let batchSize: Int
    /// How long a claim holds, seconds.
    public let lease: Int64
    /// Retries with backoff and jitter.
    public let retry: RetryPolicy
    /// The shards this dispatcher may claim (several daemons on PostgreSQL); nil: every shard.
    let keeper: ShardKeeper?
    /// Waits this many seconds (a rate limit's pause); tests pass one that moves their clock instead.
    let sleep: @Sendable (Double) async throws -> Void
    /// Where storage faults are logged once per interval (the daemon's), or nil.
    let faults: FaultLog?
    /// Resolves rows of journey message steps (the daemon's runner), or nil.
    let journeys: JourneyRunner?
    private let stats = LockedState(Stats())
    private let campaignGates = LockedState([String: GateBox]())
    /// Serializes claim → recheck → recording of the rows not sent, across this dispatcher's loops.
    private let claimGate = AsyncGate()

    /// Sends per channel and status, for `STATUS=` and the logs.
    struct Stats {
        var sent = 0
        var failed = 0
        var window: [(at: Double, count: Int)] = []
    }

    /// A dispatcher.
    public init(
        store: any HeraldAudience, ledger: any DispatchLedger, book: LiveBook, senders: ChannelSenders, links: MessageLinks,
        clock: DaemonClock, logger: Logger, owner: String, batchSize: Int = 256, lease: Int64 = 60,
        retry: RetryPolicy = RetryPolicy(), keeper: ShardKeeper? = nil, faults: FaultLog? = nil,
        journeys: JourneyRunner? = nil,
        sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .milliseconds(Int($0 * 1000) + 1)) }
    ) {
        self.sleep = sleep
        self.faults = faults
        self.journeys = journeys
        self.keeper = keeper
        self.store = store
        self.ledger = ledger
        self.book = book
        self.senders = LockedState(senders)
        self.links = links
        self.clock = clock
        self.logger = logger
        self.owner = owner
        self.batchSize = batchSize
        self.lease = lease
        self.retry = retry
    }

    /// Replaces the channel senders (a reload with new providers or secrets).
    public func swap(_ new: ChannelSenders) { senders.withLock { $0 = new } }

    /// Messages accepted per second over the last minute.
    public var rate: Double {
        let now = clock.now()
        return stats.withLock { s in
            s.window.removeAll { now - $0.at > 60 }
            let n = s.window.reduce(0) { $0 + $1.count }
            return Double(n) / 60
        }
    }

    /// One round: claims due rows, rechecks, sends and records. Returns how many rows were handled.
    @discardableResult
    public func dispatchOnce() async throws -> Int {
        let now = clock.seconds
        var shards: [Int]?
        if let keeper {
            // Only the shards held, and nothing once the shard lease is about to end without a renewal.
            shards = keeper.claimable(now: now)
            guard shards?.isEmpty == false else { return 0 }
        }
        // Claim, recheck and record the rows not sent under one gate: the rows left `sending` are then exactly
        // the ones going out, and the next loop's recheck counts them. Without it two loops holding one user's
        // rows of two campaigns could each see the other's row in flight and both suppress it against a cap.
        let claimed = try await claimGate.run { () -> (Int, [Send]) in
            let rows = try await ledger.claimDue(
                now: now, limit: batchSize, owner: owner, lease: lease, perChannel: channelLimits(), shards: shards)
            guard !rows.isEmpty else { return (0, []) }
            let (decided, sends) = try await prepare(rows, now: now)
            try await ledger.complete(decided, owner: owner, at: clock.seconds)
            record(decided)
            return (rows.count, sends)
        }
        let (count, sends) = claimed
        guard count > 0 else { return 0 }
        // Each send's outcome is written as soon as a few are in, not when the whole batch is done: what a
        // crash can repeat is only what the provider accepted since the last small write.
        let senders = self.senders.withLock { $0 }
        try await withThrowingTaskGroup(of: DispatchOutcome?.self) { group in
            for (row, c, profile, devices) in sends {
                group.addTask { await self.send(row, c, profile, senders, devices: devices, now: now) }
            }
            // A tick (nil) every `flushAge`: outcomes that came in just after a write are written within it
            // even while the claim's last sends are slow, never left unrecorded until the claim's lease ends.
            let tick: @Sendable () async -> DispatchOutcome? = {
                try? await Task.sleep(for: Self.flushAge)
                return nil
            }
            group.addTask(operation: tick)
            var remaining = sends.count
            var buffer: [DispatchOutcome] = []
            var flushed = ContinuousClock.now
            while remaining > 0, let next = try await group.next() {
                if let o = next {
                    buffer.append(o)
                    remaining -= 1
                } else {
                    group.addTask(operation: tick)
                }
                let age = ContinuousClock.now - flushed
                // A few outcomes at once when sends trickle in; under load, one write per few milliseconds.
                if buffer.count >= Self.flushMost
                    || (buffer.count >= Self.flushEvery && age >= Self.flushInterval)
                    || (!buffer.isEmpty && age >= Self.flushAge)
                {
                    try await completeSent(buffer)
                    buffer.removeAll(keepingCapacity: true)
                    flushed = ContinuousClock.now
                }
            }
            group.cancelAll()
            try await completeSent(buffer)
        }
        return count
    }

    /// Records outcomes of messages that went out. A storage fault (a full disk) must not lose them — the rows
    /// would be reclaimed and sent again once space returns — so the write is tried again every second for as
    /// long as the rows' lease holds (docs/operations.md).
    private func completeSent(_ outcomes: [DispatchOutcome]) async throws {
        let giveUp = clock.now() + Double(lease)
        while true {
            do {
                try await ledger.complete(outcomes, owner: owner, at: clock.seconds)
                record(outcomes)
                return
            } catch where StorageFault.of(error) != nil && clock.now() < giveUp {
                faults?.record(error, in: "dispatcher: recording \(outcomes.count) outcomes")
                try await sleep(1)
            }
        }
    }

    /// How many rows of each rate-limited channel one claim may take: about two seconds of its provider's rate
    /// (a channel writing to the outbox has no limit). Four loops claiming at once then hold at most ~8 s
    /// of sends, which `send` waits for in-process instead of handing rows back.
    func channelLimits() -> [ChannelKind: Int] {
        let senders = self.senders.withLock { $0 }
        var rates: [ChannelKind: Double] = [:]
        for (key, gate) in senders.gates where !senders.usesOutbox(key) {
            rates[key.channel, default: 0] += gate.snapshot.bucket.rate
        }
        return rates.mapValues { max(1, min(batchSize, Int((2 * $0).rounded(.up)))) }
    }

    /// Waits until `gate` admits one send: nil when it did, else the seconds after which to hand the row back
    /// (an open circuit, or a wait longer than `maximumRateWait`). A bucket's wait is a hint, not a
    /// reservation, so every wake-up asks the gate again: concurrent sends cannot all pass on one token.
    func admit(_ gate: GateBox) async -> Int64? {
        var waited = 0.0
        while true {
            switch gate.admit(now: clock.now()) {
            case .send: return nil
            case .wait(let seconds) where waited + seconds < Self.maximumRateWait:
                waited += seconds
                do { try await sleep(seconds) } catch { return 0 }
            case .wait(let seconds), .circuitOpen(let seconds):
                return max(1, Int64(seconds.rounded(.up)))
            }
        }
    }

    /// The gate of a campaign with `limits.rate`, shared by every send of that campaign.
    func campaignGate(_ c: Campaign) -> GateBox? {
        guard let rate = c.limits.rate else { return nil }
        return campaignGates.withLock { gates in
            if let g = gates[c.id], g.snapshot.bucket.rate == rate.perSecond { return g }
            let g = GateBox(ProviderGate(rate: rate, quota: nil))
            gates[c.id] = g
            return g
        }
    }

    /// The longest a send waits in-process for its provider's rate limit before handing the row back.
    static let maximumRateWait = 10.0

    /// Send outcomes that make a write once `flushInterval` has passed since the last.
    static let flushEvery = 8

    /// Outcomes held at most before a write, however fast they come.
    static let flushMost = 64

    /// The shortest time between two outcome writes of one loop while fewer than `flushMost` are waiting.
    static let flushInterval = Duration.milliseconds(5)
    /// The longest an outcome waits for its write while other sends of its claim are still out.
    static let flushAge = Duration.milliseconds(100)

    private func record(_ outcomes: [DispatchOutcome]) {
        var sent = 0
        var byStatus: [LedgerStatus: Int] = [:]
        for o in outcomes {
            byStatus[o.status, default: 0] += 1
            if o.status == .sent { sent += 1 }
        }
        for (status, n) in byStatus {
            Counter(label: "herald_dispatch_total", dimensions: [("status", status.rawValue)]).increment(by: n)
        }
        let now = clock.now()
        stats.withLock {
            $0.sent += sent
            $0.window.append((now, sent))
        }
    }

    /// A row to send: its campaign, the user's profile and, for push, the user's active devices.
    typealias Send = (LedgerEntry, Campaign, UserProfile, [RegisteredDevice])

    /// Decides every claimed row against fresh reads: the outcomes of rows that will not be sent (expired,
    /// cancelled, suppressed, handed back), and the rows to send with their campaign and profile.
    func prepare(_ rows: [LedgerEntry], now: Int64) async throws -> ([DispatchOutcome], [Send]) {
        let current = book.current
        var outcomes: [DispatchOutcome] = []
        var live: [(LedgerEntry, Campaign)] = []
        for row in rows {
            var campaign = current.campaign(row.campaign)
            if campaign == nil, let journeys, let verdict = try await journeys.verdict(for: row, book: current) {
                switch verdict {
                case .send(let c): campaign = c
                case .cancel(let reason):
                    outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .cancelled, reason: reason))
                    continue
                }
            }
            guard let c = campaign else {
                outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .cancelled, reason: SkipReason.campaignRemoved.description))
                continue
            }
            if c.status != .active {
                // Paused: hand the row back, unattempted, until the campaign is active again or its window passes.
                outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .scheduled, reason: "campaign_paused", retryAt: now + 60))
                continue
            }
            if let end = row.windowEnd, now > end {
                outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .expired, reason: SkipReason.windowMissed.description))
                continue
            }
            live.append((row, c))
        }
        guard !live.isEmpty else { return (outcomes, []) }
        let policy = current.config.policy
        let read = try await PlanningSource.recheckInputs(
            rows: live, store: store, ledger: ledger, policy: policy, now: now,
            goals: Campaign.conversionGoals(current.campaigns))
        let facts = read.facts
        var history = read.history
        let engagement = read.engagement
        var sends: [Send] = []
        // A push goes to the devices active now (a device can die or be removed after planning).
        let pushUsers = live.filter { $0.0.channel == .push }.map(\.0.user)
        let devices = try await store.activeDevices(users: pushUsers, limit: DeviceLimits.perPush)
        for (row, c) in live {
            guard let profile = facts.profiles[row.user], let channel = row.channel else {
                outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .suppressed, reason: "no_contact"))
                continue
            }
            var cancelTimes: [Int64] = []
            if case .event(_, _, let cancel?) = c.trigger { cancelTimes = facts.events[row.user]?[cancel.event] ?? [] }
            let planned = Decision(
                user: row.user, campaign: c.id, occurrence: row.occurrence ?? "", outcome: .send, variant: row.variant,
                channel: channel, address: row.address, sendAt: row.scheduledAt)
            let checked = DecisionPipeline.recheck(
                planned, campaign: c, consent: facts.consent[row.user] ?? .optedIn, suppressions: facts.suppressions,
                history: history[row.user] ?? [], engagement: engagement[row.user]?.ratio, policy: policy, now: now,
                cancelEvents: cancelTimes, triggeredAt: row.triggerAt)
            if checked.outcome != .send {
                let skip = checked.skip ?? .other("suppressed")
                outcomes.append(
                    DispatchOutcome(
                        key: row.idempotencyKey, status: skip.isCancellation ? .cancelled : .suppressed,
                        reason: skip.description))
                continue
            }
            let userDevices = channel == .push ? devices[row.user] ?? [] : []
            if channel == .push && userDevices.isEmpty {
                outcomes.append(DispatchOutcome(key: row.idempotencyKey, status: .suppressed, reason: SkipReason.noContact.description))
                continue
            }
            history[row.user, default: []].append(
                SendRecord(at: now, channel: channel, topic: c.topic, campaign: c.id, transactional: c.transactional))
            sends.append((row, c, profile, userDevices))
        }
        return (outcomes, sends)
    }

    /// Renders and sends one row through its provider's gate; never throws.
    func send(_ row: LedgerEntry, _ c: Campaign, _ profile: UserProfile, _ senders: ChannelSenders,
              devices: [RegisteredDevice] = [], now: Int64) async -> DispatchOutcome
    {
        let key = row.idempotencyKey
        guard let channel = row.channel else { return DispatchOutcome(key: key, status: .suppressed, reason: "no_contact") }
        let unsubscribe = c.transactional ? nil : links.unsubscribe(row.user, c, key)
        var message = RenderedMessage.render(
            campaign: c, variant: row.variant, channel: channel, facts: UserFacts(profile: profile),
            unsubscribeURL: unsubscribe)
        if let html = message.html { message.html = links.decorateHTML(html, row.user, c, key) }
        let envelope = Envelope(
            key: key, channel: channel, address: row.address,
            endpoint: c.message(forVariant: row.variant).webhook?.endpoint, unsubscribeURL: unsubscribe,
            statusCallback: channel == .sms ? links.statusCallback(key, now) : nil, date: now)
        let gate = senders.usesOutbox(envelope) ? nil : senders.gates[GateKey(envelope)]
        // The campaign's own `limits.rate` first, then the provider's rate, quota and breaker.
        for (g, reason) in [(campaignGate(c), "campaign_rate"), (gate, "provider_busy")] {
            guard let g else { continue }
            if let busy = await admit(g) {
                return DispatchOutcome(key: key, status: .scheduled, reason: reason, retryAt: now + busy)
            }
        }
        var detail: String?
        let result: Result<Accepted, DeliveryError>
        if channel == .push {
            let dispatch = await senders.sendPush(message, key: key, devices: devices)
            await deactivate(dispatch.dead, user: row.user, now: now)
            result = dispatch.result
            detail = dispatch.attempts.isEmpty ? nil : dispatch.detail
        } else {
            do throws(DeliveryError) { result = .success(try await senders.send(message, envelope)) } catch { result = .failure(error) }
        }
        switch result {
        case .success(let accepted):
            gate?.record(nil, now: clock.now())
            return DispatchOutcome(key: key, status: .sent, providerMessageID: accepted.providerMessageID, detail: detail)
        case .failure(let error):
            var outcome = failed(row, error, envelope: envelope, gate: gate, now: now)
            outcome.detail = detail
            return outcome
        }
    }

    /// Marks the devices a provider declared dead inactive in the registry (docs/push.md). A failure to record
    /// it is logged: the device is tried again next time and refused again, never reached.
    private func deactivate(_ dead: [(token: String, reason: String, since: Int64?)], user: String, now: Int64) async {
        for d in dead {
            do {
                if try await store.deactivateDevice(token: d.token, reason: d.reason, since: d.since, at: now) {
                    logger.notice("push device deactivated", metadata: [
                        "user": "\(user)", "device": "…\(d.token.suffix(4))", "reason": "\(d.reason)"])
                }
            } catch {
                faults?.record(error, in: "dispatcher: deactivating a push device")
            }
        }
    }

    /// The outcome of a send that failed with `error`: handed back, held for refused credentials, retried or dead.
    private func failed(_ row: LedgerEntry, _ error: DeliveryError, envelope: Envelope, gate: GateBox?, now: Int64)
        -> DispatchOutcome
    {
        let key = row.idempotencyKey
        let firstRefusal = gate?.record(error, now: clock.now()) ?? false
        if error.code == .cancelled {
            return DispatchOutcome(key: key, status: .scheduled, reason: "shutdown", retryAt: now)
        }
        if error.code == .loginDenied {
            return loginRefused(key, error, provider: GateKey(envelope).description, gate: gate, first: firstRefusal, now: now)
        }
        switch retry.decide(attempt: row.attempts, error: error, jitter: Double.random(in: 0..<1)) {
        case .dead(let final):
            logger.warning("send failed for good", metadata: ["key": "\(key)", "error": "\(final)"])
            return DispatchOutcome(key: key, status: .dead, error: final.description)
        case .retry(let after):
            return DispatchOutcome(
                key: key, status: .failed, error: error.description, retryAt: now + max(1, Int64(after.rounded(.up))))
        }
    }
}
