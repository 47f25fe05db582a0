import HeraldCore

/// Aggregate reads for the console (docs/console.md): each answers from grouped queries, so a page stays fast
/// on a large ledger without reading rows one by one.
public protocol LedgerOverview: Sendable {
    /// Every campaign with ledger rows: its rows decided, and its rows sent at or after `since`.
    func campaignActivity(since: Int64) async throws -> [String: CampaignActivity]
    /// The sends of `campaign` (rows sent, or still to be sent) by the user's stored time zone (nil: none) and
    /// quarter-hour (epoch seconds / 900) of their send time (sent, else scheduled).
    func sendTimes(campaign: String) async throws -> [SendTimeBucket]
    /// A journey's instances now at each step (active ones), and its step records (steps passed) by step.
    func journeySteps(journey: String) async throws -> JourneyStepCounts
    /// Rows waiting to be sent by status (`scheduled`, `failed`, `sending`), and how many of each are due at `now`.
    func queue(now: Int64) async throws -> [LedgerStatus: (waiting: Int, due: Int)]
}

/// One campaign's ledger at a glance.
public struct CampaignActivity: Sendable, Hashable {
    /// Rows decided (every status).
    public var decisions: Int
    /// Rows sent in the window asked for.
    public var recentSends: Int

    /// Counts.
    public init(decisions: Int, recentSends: Int) {
        self.decisions = decisions
        self.recentSends = recentSends
    }
}

/// Sends of one time zone in one quarter-hour.
public struct SendTimeBucket: Sendable, Hashable {
    /// The user's stored time zone, nil when the profile has none (or the user is unknown).
    public var zone: String?
    /// Epoch seconds / 900.
    public var quarter: Int64
    /// Sends.
    public var count: Int

    /// A bucket.
    public init(zone: String?, quarter: Int64, count: Int) {
        self.zone = zone
        self.quarter = quarter
        self.count = count
    }
}

/// A journey's counts by step.
public struct JourneyStepCounts: Sendable, Hashable {
    /// Active instances now at each step.
    public var at: [String: Int]
    /// Step records (an instance finished the step) by step.
    public var through: [String: Int]

    /// Counts.
    public init(at: [String: Int] = [:], through: [String: Int] = [:]) {
        self.at = at
        self.through = through
    }
}

extension SendTimeBucket {
    /// Sends by local hour (0…23): each bucket in its zone, or in `defaultZone` when it has none or an
    /// unknown one (as planning does).
    public static func localHours(_ buckets: [SendTimeBucket], defaultZone: String) -> [Int] {
        var hours = [Int](repeating: 0, count: 24)
        var clocks: [String: LocalClock] = [:]
        let fallback = LocalClock(defaultZone) ?? LocalClock("UTC")
        for b in buckets {
            let name = b.zone ?? defaultZone
            let clock: LocalClock?
            if let known = clocks[name] {
                clock = known
            } else {
                clock = LocalClock(name) ?? fallback
                clocks[name] = clock
            }
            guard let clock else { continue }
            hours[clock.local(b.quarter * 900).secondOfDay / 3600] += b.count
        }
        return hours
    }
}
