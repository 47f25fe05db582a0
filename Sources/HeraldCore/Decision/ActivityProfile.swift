/// A 7×24 hour-of-week histogram of a user's events in their own time zone, recent weeks weighing more.
///
/// Slot `weekday * 24 + hour` with weekday 0 = Sunday. An event `w` whole weeks old weighs `decay^w`;
/// events older than `horizonWeeks` are ignored. How `best_time` turns it into a send slot:
/// `SendTimeModel` and docs/send-time.md.
public struct ActivityProfile: Sendable, Hashable {
    /// Weekly decay factor: the weight halves in about four weeks.
    public static let decay = 0.85
    /// Weeks of history considered: a year, so a lapsed user's old habits still count (weighted down).
    public static let horizonWeeks = 52
    /// At least this many events in the horizon is "enough history": the profile joins the aggregates and
    /// `herald why` calls it the user's own.
    public static let minimumEvents = 5
    /// Precomputed `decay^w`.
    static let weights: [Double] = (0..<horizonWeeks).map { w in (0..<w).reduce(1.0) { x, _ in x * decay } }

    /// The 168 weights.
    public var slots: [Double]
    /// Events counted.
    public var events: Int
    /// The sum of the squared weights of the events counted (with `slots`' sum: the effective event count).
    public var squares: Double

    /// An empty profile.
    public init() {
        slots = [Double](repeating: 0, count: 168)
        events = 0
        squares = 0
    }

    /// The slot of instant `t` on `clock`.
    @inline(__always) public static func slot(_ t: Int64, clock: LocalClock) -> Int {
        let (date, second) = clock.local(t)
        return date.weekday * 24 + second / 3600
    }

    /// Adds events (ascending or not) observed up to `now`.
    public mutating func add<C: Collection>(_ timestamps: C, now: Int64, offsets: ZoneOffsetCache)
    where C.Element == Int64 {
        let horizon = now - Int64(Self.horizonWeeks) * 604_800
        for t in timestamps where t >= horizon && t <= now {
            let w = Int((now - t) / 604_800)
            let local = t + offsets.offset(at: t)
            let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            let weekday = Int(((days + 4) % 7 + 7) % 7)
            let hour = Int(local - days * 86_400) / 3600
            let weight = Self.weights[w]
            slots[weekday * 24 + hour] += weight
            squares += weight * weight
            events += 1
        }
    }

    /// Adds another profile scaled to unit mass (so every user weighs the same in an aggregate).
    public mutating func addNormalized(_ other: ActivityProfile) {
        let total = other.slots.reduce(0, +)
        guard total > 0 else { return }
        let scale = 1 / total
        for i in 0..<168 { slots[i] += other.slots[i] * scale }
        events += other.events
    }

    /// Adds another profile as is (combining partial aggregates).
    public mutating func merge(_ other: ActivityProfile) {
        for i in 0..<168 { slots[i] += other.slots[i] }
        events += other.events
    }

    /// True when the profile has enough history to be used on its own.
    public var isSufficient: Bool { events >= Self.minimumEvents }
}

/// Offsets of one zone at hour granularity over a span, so bulk planning avoids a Foundation call per event.
public final class ZoneOffsetCache: @unchecked Sendable {
    // @unchecked: the buffer is filled in `init` and only read afterwards.
    /// The clock behind the cache.
    public let clock: LocalClock
    private let start: Int64
    private let hours: [Int32]

    /// Offsets of `clock` for every UTC hour in `[from, to]`; instants outside ask the clock.
    public init(clock: LocalClock, from: Int64, to: Int64) {
        self.clock = clock
        let first = from - ((from % 3600) + 3600) % 3600
        start = first
        let n = max(0, Int((to - first) / 3600) + 1)
        var buf = [Int32](repeating: 0, count: n)
        func exact(_ i: Int) -> Int32 { Int32(clock.offset(at: first + Int64(i) * 3600)) }
        // Offsets change rarely: probe every 6 hours, and hour by hour only where two probes differ.
        var previous = 0
        if n > 0 { buf[0] = exact(0) }
        var i = 6
        while previous < n - 1 {
            let probe = min(i, n - 1)
            buf[probe] = exact(probe)
            for j in (previous + 1)..<probe {
                buf[j] = buf[probe] == buf[previous] ? buf[previous] : exact(j)
            }
            previous = probe
            i += 6
        }
        hours = buf
    }

    /// Seconds east of UTC at `t`.
    @inline(__always) public func offset(at t: Int64) -> Int64 {
        let i = Int((t - start) / 3600)
        if t >= start, i < hours.count { return Int64(hours[i]) }
        return clock.offset(at: t)
    }
}
