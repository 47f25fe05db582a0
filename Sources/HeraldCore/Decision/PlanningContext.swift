/// Per-pass caches of one planning run: clocks and window slots per time zone, aggregate activity profiles.
final class PlanningContext {
    /// One time zone's clock, offsets and window slots.
    final class Zone {
        let clock: LocalClock
        let defaulted: Bool
        let offsets: ZoneOffsetCache
        let slots: WindowSlots

        init(clock: LocalClock, defaulted: Bool, offsets: ZoneOffsetCache, slots: WindowSlots) {
            self.clock = clock
            self.defaulted = defaulted
            self.offsets = offsets
            self.slots = slots
        }
    }

    let pipeline: DecisionPipeline
    let capPolicy: CapPolicy
    private var zones: [Int32: Zone] = [:]
    /// The audience's aggregate profile and everyone's (best_time fallbacks).
    private(set) var segmentProfile = ActivityProfile()
    private(set) var everyoneProfile = ActivityProfile()
    /// best_time's prior, from the two aggregates (docs/send-time.md).
    let prior: [Double]

    /// A context that uses aggregates computed elsewhere (one per worker of a parallel pass).
    init(
        pipeline: DecisionPipeline, segment: ActivityProfile = ActivityProfile(),
        everyone: ActivityProfile = ActivityProfile()
    ) {
        self.pipeline = pipeline
        capPolicy = CapPolicy(
            rules: pipeline.inputs.policy.caps, adaptive: pipeline.inputs.policy.adaptiveCaps)
        segmentProfile = segment
        everyoneProfile = everyone
        prior = SendTimeModel.prior(segment: segment, everyone: everyone)
    }

    var windowEnd: Int64 { pipeline.occurrence.windowEnd(within: pipeline.campaign.sendTime.within) }

    /// The zone of snapshot zone code `code` (-1: missing).
    func zone(_ code: Int32) -> Zone {
        if let z = zones[code] { return z }
        let s = pipeline.inputs.snapshot
        let name = code >= 0 ? s.timezoneNames[Int(code)] : nil
        let (clock, defaulted) = LocalClock.resolve(name, fallback: pipeline.inputs.policy.defaultTimezone)
        let now = pipeline.inputs.now
        let horizon = now - Int64(ActivityProfile.horizonWeeks) * 604_800
        let z = Zone(
            clock: clock, defaulted: defaulted,
            offsets: ZoneOffsetCache(clock: clock, from: horizon, to: max(now, windowEnd)),
            slots: WindowSlots(clock: clock, from: pipeline.occurrence.start, to: windowEnd))
        zones[code] = z
        return z
    }

    /// Row `row`'s own profile.
    func ownProfile(_ row: Int) -> ActivityProfile {
        let s = pipeline.inputs.snapshot
        // One scratch buffer, reset per user: no allocation per row in a million-user pass.
        for i in 0..<168 { scratch.slots[i] = 0 }
        scratch.events = 0
        scratch.squares = 0
        let events = s.allEvents
        scratch.add(
            events.timestamps[events.range(row)], now: pipeline.inputs.now,
            offsets: zone(s.timezone[row]).offsets)
        return scratch
    }

    private var scratch = ActivityProfile()
    // best_time's scratch space, reused for every row.
    private var blended = [Double](repeating: 0, count: 168)
    private var scores = [Double](repeating: 0, count: 168)

    /// The audience's and everyone's aggregate profiles over `rows`.
    func aggregate(rows: Range<Int>, audience: [Bool]) -> (
        segment: ActivityProfile, everyone: ActivityProfile
    ) {
        var segment = ActivityProfile()
        var everyone = ActivityProfile()
        for row in rows {
            let p = ownProfile(row)
            guard p.isSufficient else { continue }
            everyone.addNormalized(p)
            if audience[row] { segment.addNormalized(p) }
        }
        return (segment, everyone)
    }

    /// What a `best_time` estimate leaned on.
    enum ProfileSource {
        case own, segment, everyone, none

        /// For `herald why`.
        func describe(ownEvents n: Int) -> String {
            switch self {
            case .own: "own (\(n) events)"
            case .segment: "segment's (own history: \(n) events, blended in)"
            case .everyone: "everyone's (own history: \(n) events, blended in)"
            case .none:
                n == 0
                    ? "none: no activity anywhere, a daytime hour"
                    : "own (\(n) events, blended with a daytime default)"
            }
        }
    }

    /// `best_time`'s scores for `row`, valid at the slots of `window` (docs/send-time.md), what they leaned
    /// on, and the user's own event count. The array is scratch space: use it before the next call.
    func bestTimeScores(_ row: Int, window: WindowSlots) -> ([Double], ProfileSource, Int) {
        let own = ownProfile(row)
        SendTimeModel.score(own, prior: prior, window: window, blended: &blended, into: &scores)
        let source: ProfileSource =
            own.isSufficient
            ? .own : segmentProfile.events > 0 ? .segment : everyoneProfile.events > 0 ? .everyone : .none
        return (scores, source, own.events)
    }
}
