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

/// Chooses one recipient's send instant (docs/decisions.md). Pure: the clock, window and profile are parameters.
public struct SendTimePicker: Sendable, Hashable {
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
    /// For `local_time`, an instant before `windowStart` from which a send may go (`Occurrence.notBefore`).
    public var notBefore: Int64?

    /// A picker for one occurrence planned at `now`.
    public init(windowStart: Int64, windowEnd: Int64, now: Int64, notBefore: Int64? = nil) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.now = now
        self.notBefore = notBefore
    }

    /// The earliest instant a send may go: not before the window or now.
    public var earliest: Int64 { max(windowStart, now) }

    /// `immediate`: as soon as the window is open.
    public func immediate() -> Int64? { earliest < windowEnd ? earliest : nil }

    /// `local_time`: the first moment at local `time` at or after the window's start (or `notBefore`), on or
    /// after the start's local date; when planning runs after that moment, at once, while the window is open —
    /// a few seconds of planning lag never move a send to the next day (docs/campaigns.md, "Local-date sends").
    public func localTime(_ time: ClockTime, clock: LocalClock) -> Int64? {
        localTimes(time, clock: clock, limit: 1).first
    }

    /// Every send `local_time` could make in the window, one per local date, first as in `localTime`: one for a
    /// window of a day or less, two when it is longer than the local day (the 25-hour day of a DST change).
    public func localTimes(_ time: ClockTime, clock: LocalClock, limit: Int = .max) -> [Int64] {
        let from = notBefore ?? windowStart
        let firstDay = clock.local(windowStart).date.daysSinceEpoch
        var d = max(firstDay, clock.local(from).date.daysSinceEpoch - 1)
        let last = d + 400
        var out: [Int64] = []
        while d <= last && out.count < limit {
            let t = clock.instant(CivilDate(daysSinceEpoch: d), time)
            if t >= windowEnd { break }
            if t >= from {
                guard max(t, now) < windowEnd else { break }
                out.append(max(t, now))
            }
            d += 1
        }
        return out
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
