import HeraldCore

/// The strategies Herald's best_time is compared with, computed here rather than by the pipeline.
enum Baselines {
    /// The original best_time (before docs/send-time.md's model), replayed exactly: a 7×24 histogram
    /// weighted 0.7^weeks over 12 weeks, fewer than 5 events → the sum of everyone's normalised profiles,
    /// the window's single highest hour.
    struct Original {
        static let decay = 0.7
        static let horizonWeeks = 12
        static let minimumEvents = 5
        static let weights: [Double] = (0..<horizonWeeks).map { w in (0..<w).reduce(1.0) { x, _ in x * decay }
        }

        let fallback: [Double]

        /// The histogram of `timestamps` at `now` and the number of events counted.
        static func profile(_ timestamps: [Int64], now: Int64, offsets: ZoneOffsetCache) -> ([Double], Int) {
            var slots = [Double](repeating: 0, count: 168)
            var n = 0
            let horizon = now - Int64(horizonWeeks) * 604_800
            for t in timestamps where t >= horizon && t <= now {
                let w = Int((now - t) / 604_800)
                let local = t + offsets.offset(at: t)
                let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
                let weekday = Int(((days + 4) % 7 + 7) % 7)
                slots[weekday * 24 + Int(local - days * 86_400) / 3600] += weights[w]
                n += 1
            }
            return (slots, n)
        }

        /// The fallback: every sufficient user's profile scaled to unit mass, summed in row order.
        init(_ a: Audience, now: Int64, offsets: (Int) -> ZoneOffsetCache) {
            var sum = [Double](repeating: 0, count: 168)
            for row in a.history.indices {
                let (p, n) = Self.profile(a.history[row], now: now, offsets: offsets(row))
                guard n >= Self.minimumEvents else { continue }
                let total = p.reduce(0, +)
                guard total > 0 else { continue }
                let scale = 1 / total
                for i in 0..<168 { sum[i] += p[i] * scale }
            }
            fallback = sum
        }

        /// The send instant for `row` in the window of `picker`.
        func pick(
            _ a: Audience, row: Int, picker: SendTimePicker, slots: WindowSlots, offsets: ZoneOffsetCache,
            spread: UInt64
        ) -> Int64? {
            let (own, n) = Self.profile(a.history[row], now: picker.now, offsets: offsets)
            let profile = n >= Self.minimumEvents ? own : fallback
            return picker.bestTime(profile: profile, window: slots, spread: spread, quiet: nil)?.at
        }
    }

    /// The population's best local hour: the h:00 with the most learned events within ±1 hour.
    static func populationHour(_ a: Audience, clocks: [String: LocalClock]) -> Int {
        var hours = [Int](repeating: 0, count: 24)
        for (row, events) in a.history.enumerated() {
            let clock = clocks[a.rhythms[row].zone]!
            for t in events { hours[clock.local(t).secondOfDay / 3600] += 1 }
        }
        return (0..<24).max { hours[($0 + 23) % 24] + hours[$0] < hours[($1 + 23) % 24] + hours[$1] }!
    }

    /// The simple per-user reference: the window's hour-of-week with the most learned events (no decay,
    /// no smoothing), sent at the middle of that hour; a user with none there gets the population's hour.
    static func hourOfWeek(
        _ a: Audience, row: Int, clock: LocalClock, picker: SendTimePicker, slots: WindowSlots,
        populationHour: Int
    ) -> Int64? {
        var counts = [Int](repeating: 0, count: 168)
        for t in a.history[row] {
            let (date, second) = clock.local(t)
            counts[date.weekday * 24 + second / 3600] += 1
        }
        var best: WindowSlots.Slot?
        for s in slots.slots
        where s.start + 3600 > picker.earliest && counts[s.slot] > (best.map { counts[$0.slot] } ?? 0) {
            best = s
        }
        guard let best else {
            return picker.localTime(ClockTime(hour: populationHour, minute: 0), clock: clock)
        }
        return min(max(best.start + 1800, picker.earliest), picker.windowEnd - 1)
    }
}
