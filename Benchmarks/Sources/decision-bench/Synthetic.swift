import HeraldCore

/// A small deterministic generator (SplitMix64), so every run sees the same audience.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Approximately normal (sum of uniforms).
    mutating func normal() -> Double { (0..<6).reduce(0) { s, _ in s + unit() } - 3 }
}

/// One synthetic person's rhythm: a weekday and a weekend peak hour, sessions per day, noise, travel.
struct Person {
    var zone: String
    var weekdayPeak: Double
    var weekendPeak: Double
    var secondPeak: Double?
    var sessionsPerDay: Double
    var noise: Double
    /// A traveller spends the scored week this many hours away from home time.
    var travelShift: Int
}

enum Synthetic {
    static let zones = [
        "America/New_York", "America/Los_Angeles", "Europe/Berlin", "Europe/London", "Asia/Shanghai",
        "Asia/Kolkata",
        "Asia/Kathmandu", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo",
        "UTC",
    ]

    static func person(_ rng: inout Rng) -> Person {
        // Peaks cluster where real people are active: mornings, lunch, evenings; some night owls.
        let anchors: [Double] = [7.5, 8.5, 12.5, 18.5, 20.5, 21.5, 22.5, 23.5]
        let wd = anchors[rng.int(anchors.count)] + rng.normal() * 0.4
        let we = (rng.unit() < 0.5 ? wd + 2 : anchors[rng.int(anchors.count)]) + rng.normal() * 0.4
        return Person(
            zone: zones[rng.int(zones.count)], weekdayPeak: wd, weekendPeak: we,
            secondPeak: rng.unit() < 0.4 ? anchors[rng.int(anchors.count)] : nil,
            sessionsPerDay: 0.6 + rng.unit() * 1.6, noise: 0.1 + rng.unit() * 0.25,
            travelShift: rng.unit() < 0.1 ? [-9, -6, 6, 8][rng.int(4)] : 0)
    }

    /// Event timestamps of `p` over the days `[fromDay, toDay)` (days since epoch, UTC); `away` applies travel.
    static func events(_ p: Person, fromDay: Int64, toDay: Int64, away: Bool, rng: inout Rng) -> [Int64] {
        let clock = LocalClock(p.zone)!
        var out: [Int64] = []
        for day in fromDay..<toDay {
            let date = CivilDate(daysSinceEpoch: day)
            let weekend = date.weekday == 0 || date.weekday == 6
            var sessions = 0
            var budget = p.sessionsPerDay
            while budget > 0 {
                if rng.unit() < min(budget, 1) { sessions += 1 }
                budget -= 1
            }
            for _ in 0..<sessions {
                var hour: Double
                if rng.unit() < p.noise {
                    hour = rng.unit() * 24
                } else {
                    let peak =
                        (p.secondPeak != nil && rng.unit() < 0.35)
                        ? p.secondPeak! : (weekend ? p.weekendPeak : p.weekdayPeak)
                    hour = peak + rng.normal() * 0.5
                }
                hour = (hour.truncatingRemainder(dividingBy: 24) + 24).truncatingRemainder(dividingBy: 24)
                let seconds = Int(hour * 3600)
                var t = clock.instant(date, ClockTime(hour: seconds / 3600, minute: (seconds % 3600) / 60))
                if away { t -= Int64(p.travelShift) * 3600 }
                for k in 0..<(1 + rng.int(3)) { out.append(t + Int64(k * 90 + rng.int(60))) }
            }
        }
        return out.sorted()
    }

    /// A snapshot of users with the given zones and event timelines (country attribute for the segment).
    static func snapshot(
        ids: [String], zones: [String], events: [[Int64]], countries: [Int32], emails: Bool = true
    )
        -> AudienceSnapshot
    {
        var s = AudienceSnapshot()
        s.ids = ids
        s.email = emails ? ids.map { "\($0)@example.com" } : Array(repeating: nil, count: ids.count)
        s.phone = ids.map { _ in "+15550001111" }
        s.locale = Array(repeating: nil, count: ids.count)
        var codes: [String: Int32] = [:]
        s.timezone = zones.map { z in
            if let c = codes[z] { return c }
            codes[z] = Int32(s.timezoneNames.count)
            s.timezoneNames.append(z)
            return codes[z]!
        }
        s.createdAt = Array(repeating: AudienceSnapshot.nullTime, count: ids.count)
        s.lastSeenImported = s.createdAt
        s.birthday = s.createdAt
        s.engagement = ids.indices.map { i in i % 3 == 0 ? .nan : Double(i % 10) / 20 }
        var offsets = [0]
        offsets.reserveCapacity(ids.count + 1)
        var ts: [Int64] = []
        for e in events {
            ts += e
            offsets.append(ts.count)
        }
        s.allEvents = EventColumn(offsets: offsets, timestamps: ts)
        s.attributes["country"] = .string(codes: countries, dictionary: ["US", "CN", "DE", "FR", "GB"])
        return s
    }
}
