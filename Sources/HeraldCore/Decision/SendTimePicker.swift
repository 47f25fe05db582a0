/// The local hours of one delivery window on one clock: the candidate slots of `best_time`.
public struct WindowSlots: Sendable {
    /// One local hour: its first instant and its hour-of-week slot (weekday × 24 + hour).
    public struct Slot: Sendable, Hashable {
        /// The instant the local hour starts (may precede the window's start for the first slot).
        public var start: Int64
        /// Weekday × 24 + hour, weekday 0 = Sunday.
        public var slot: Int
        /// The local time of day the slot starts.
        public var time: ClockTime
    }

    /// The local hours overlapping the window, in time order.
    public let slots: [Slot]

    /// The local hours of `clock` overlapping `[from, to)`.
    public init(clock: LocalClock, from: Int64, to: Int64) {
        var out: [Slot] = []
        var t = from
        while t < to {
            let (date, second) = clock.local(t)
            let hourStart = t - Int64(second % 3600)
            let hour = second / 3600
            if out.last.map({ $0.start < hourStart }) ?? true {
                out.append(
                    Slot(
                        start: hourStart, slot: date.weekday * 24 + hour,
                        time: ClockTime(hour: hour, minute: 0)))
            }
            t = hourStart + 3600
        }
        slots = out
    }
}

/// Chooses one recipient's send instant (SPEC §5.2). Pure: the clock, window and profile are parameters.
public struct SendTimePicker: Sendable {
    /// The chosen time, or why there is none.
    public struct Choice: Sendable, Hashable {
        /// The instant, nil when the window is entirely gone (`window_missed`).
        public var at: Int64?
        /// How it was chosen, for `herald why`.
        public var detail: String
        /// True when quiet hours moved it.
        public var deferredByQuietHours: Bool
    }

    /// How far before the start of the best hour the spread begins, seconds.
    public static let leadSeconds: Int64 = 900
    /// The spread of sends around the slot start (a user's hash picks the second).
    public static let spreadSeconds: Int64 = 1800

    /// The delivery window's start (the occurrence's trigger time).
    public var windowStart: Int64
    /// The delivery window's end (exclusive).
    public var windowEnd: Int64
    /// The planning instant.
    public var now: Int64

    /// A picker for one occurrence planned at `now`.
    public init(windowStart: Int64, windowEnd: Int64, now: Int64) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.now = now
    }

    /// The earliest instant a send may go: not before the window or now.
    public var earliest: Int64 { max(windowStart, now) }

    /// `immediate`: as soon as the window is open.
    public func immediate() -> Int64? { earliest < windowEnd ? earliest : nil }

    /// `local_time`: the first moment at local `time` inside the window, not before now.
    public func localTime(_ time: ClockTime, clock: LocalClock) -> Int64? {
        let day = clock.local(earliest).date.daysSinceEpoch
        var d = day - 1
        while d <= day + 400 {
            let t = clock.instant(CivilDate(daysSinceEpoch: d), time)
            if t >= windowEnd { return nil }
            if t >= earliest { return t }
            d += 1
        }
        return nil
    }

    /// `best_time`: the hour of the window with the highest score in `profile` (indexed by hour-of-week slot,
    /// `SendTimeModel.score`), the earliest on a tie, skipping quiet hours when others remain, spread by
    /// `spread` (a hash of the user). A passed best hour moves to the same local hour the next day when that
    /// is inside the window, else to the best remaining hour.
    public func bestTime(
        profile: [Double], window: WindowSlots, spread: UInt64, quiet: QuietHours?
    ) -> (at: Int64, slot: WindowSlots.Slot)? {
        let slots = window.slots
        guard !slots.isEmpty else { return nil }
        let offset = Int64(spread % UInt64(Self.spreadSeconds)) - Self.leadSeconds
        func sendAt(_ s: WindowSlots.Slot) -> Int64 { min(max(s.start + offset, windowStart), windowEnd - 1) }
        func allowed(_ s: WindowSlots.Slot) -> Bool { !(quiet?.contains(s.time) ?? false) }
        let anyAllowed = slots.contains(where: allowed)
        func best(_ candidates: [WindowSlots.Slot]) -> WindowSlots.Slot? {
            var pick: WindowSlots.Slot?
            var score = -Double.infinity
            for s in candidates where (!anyAllowed || allowed(s)) && profile[s.slot] > score {
                pick = s
                score = profile[s.slot]
            }
            return pick
        }
        guard let overall = best(slots) else { return nil }
        if sendAt(overall) >= now { return (sendAt(overall), overall) }
        // Passed: the same local hour a day later, if it is in the window and still ahead.
        if let next = slots.first(where: { $0.start >= overall.start + 82_800 && $0.time == overall.time }),
            sendAt(next) >= now
        {
            return (sendAt(next), next)
        }
        let remaining = slots.filter { $0.start + 3600 > now }
        guard let r = best(remaining) ?? remaining.first else { return nil }
        return (max(sendAt(r), now), r)
    }
}
