/// Generates a realistic sample audience (users and events as NDJSON lines) from a fixed seed.
///
/// Users follow personas (new, active, lapsing, dormant, churned, returning) relative to `now`;
/// each has a personal daily rhythm (a peak local hour and a weekend habit) that their events follow,
/// purchases with amounts for RFM, and the attributes of the example herald.yaml.
public struct SampleAudience: Sendable {
    /// How many users.
    public var users: Int
    /// The seed; the same seed and `now` give byte-identical output.
    public var seed: UInt64
    /// The reference instant (epoch seconds) the personas are relative to.
    public var now: Int64
    /// Scales the number of events per user (1 = about 12 on average).
    public var eventScale: Double

    /// A generator description.
    public init(users: Int, seed: UInt64 = 42, now: Int64, eventScale: Double = 1) {
        self.users = users
        self.seed = seed
        self.now = now
        self.eventScale = eventScale
    }

    static let zones: [(name: String, country: String, offsetHours: Double)] = [
        ("Asia/Shanghai", "CN", 8), ("Asia/Shanghai", "CN", 8), ("Asia/Shanghai", "CN", 8),
        ("Asia/Hong_Kong", "HK", 8), ("America/New_York", "US", -5), ("America/New_York", "US", -5),
        ("America/Los_Angeles", "US", -8), ("Europe/Berlin", "DE", 1), ("Europe/London", "GB", 0),
        ("Asia/Kathmandu", "NP", 5.75), ("Australia/Lord_Howe", "AU", 10.5),
        ("Pacific/Chatham", "NZ", 12.75), ("Asia/Tokyo", "JP", 9),
    ]
    static let firstNames = [
        "Wei", "Li", "Mei", "Jun", "Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hiro",
        "Ivy", "Jack", "Kai", "Lena", "明", "芳", "Sofia", "Tom",
    ]
    static let plans = ["free", "basic", "pro", "enterprise"]
    static let tagPool = ["newsletter", "beta", "mobile", "desktop", "gift", "sale-hunter", "vip"]

    /// Writes every user line to `user` and every event line to `event`, in a deterministic order.
    public func generate(user: (String) -> Void, event: (String) -> Void) {
        var rng = SeededGenerator(seed: seed)
        let day: Int64 = 86_400
        for n in 1...max(1, users) {
            let id = "u" + Self.pad(n, 7)
            let zone = rng.pick(Self.zones)
            let persona = rng.unit()
            // Days since the last activity, by persona.
            let (createdAgo, lastAgo): (Double, Double) =
                switch persona {
                case ..<0.08: (rng.unit() * 6.5, 0)  // new
                case ..<0.40: (8 + rng.unit() * 700, rng.unit() * 6.5)  // active
                case ..<0.55: (40 + rng.unit() * 600, 7.5 + rng.unit() * 22)  // lapsing
                case ..<0.80: (200 + rng.unit() * 500, 31 + rng.unit() * 148)  // dormant
                case ..<0.94: (400 + rng.unit() * 400, 185 + rng.unit() * 200)  // churned
                default: (300 + rng.unit() * 400, -1)  // returning: long gap, then back this week
                }
            let createdAt = now - Int64(createdAgo * Double(day))
            let peakHour = min(23.5, max(6, rng.normal(mean: 19, sd: 3.5)))
            let weekendLover = rng.chance(0.3)
            let aov = (40 + rng.exponential(mean: 70)).rounded()
            var attrs: [String] = []
            attrs.append("\"country\":\"\(zone.country)\"")
            attrs.append("\"first_name\":\"\(rng.pick(Self.firstNames))\"")
            attrs.append("\"plan\":\"\(rng.pick(Self.plans))\"")
            attrs.append("\"avg_order_value\":\(aov)")
            if rng.chance(0.5) {
                let tags = (0..<(1 + Int(rng.next() % 3))).map { _ in "\"\(rng.pick(Self.tagPool))\"" }
                attrs.append("\"tags\":[\(Array(Set(tags)).sorted().joined(separator: ","))]")
            }
            var fields = ["\"id\":\"\(id)\""]
            if rng.chance(0.93) { fields.append("\"email\":\"\(id)@example.com\"") }
            if rng.chance(0.8) {
                let valid = rng.chance(0.97)
                fields.append("\"phone\":\"\(valid ? "+1555" : "555")\(Self.pad(Int(rng.next() % 10_000_000), 7))\"")
            }
            let zoneName = rng.chance(0.03) ? "Mars/Olympus_Mons" : zone.name
            if rng.chance(0.96) { fields.append("\"timezone\":\"\(zoneName)\"") }
            fields.append("\"locale\":\"\(zone.country == "CN" ? "zh-CN" : "en-US")\"")
            fields.append("\"created_at\":\"\(TimestampParser.formatUTC(seconds: createdAt))\"")
            // Some birthdays fall on today's date so the birthday campaign has an audience.
            let birthYear = 1960 + Int(rng.next() % 45)
            let today = CivilDate(epochSeconds: now)
            let bday =
                rng.chance(0.01)
                ? CivilDate(year: birthYear, month: today.month, day: today.day)
                : CivilDate(daysSinceEpoch: CivilDate(year: birthYear, month: 1, day: 1).daysSinceEpoch
                    + Int64(rng.next() % 365))
            if bday.isValid { fields.append("\"birthday\":\"\(bday)\"") }
            user("{" + (fields + attrs).joined(separator: ",") + "}")

            // Events: signed_up at creation, then sessions following the personal rhythm.
            event(eventLine(id, "signed_up", createdAt, nil))
            let activeSpan = max(0, createdAgo - max(lastAgo, 0))
            var count = Int((rng.exponential(mean: 10) * eventScale).rounded())
            if persona < 0.08 { count = min(count, 5) }
            var times: [Int64] = []
            for _ in 0..<count {
                let daysAgo = max(lastAgo, 0) + rng.unit() * activeSpan
                var t = now - Int64(daysAgo * Double(day))
                // Move to the user's local peak hour ± noise; weekend lovers shift to Sat/Sun.
                let localMidnight = Self.floorDiv(t + Int64(zone.offsetHours * 3600), day) * day
                var hour = rng.normal(mean: peakHour, sd: 1.2)
                hour = min(23.9, max(0, hour))
                t = localMidnight - Int64(zone.offsetHours * 3600) + Int64(hour * 3600)
                if weekendLover, rng.chance(0.6) {
                    let wd = CivilDate(epochSeconds: t).weekday
                    if wd != 0 && wd != 6 { t += Int64(6 - wd) * day }
                }
                if t > now || t < createdAt { continue }
                times.append(t)
            }
            if persona >= 0.94 {  // returning: one burst this week after the gap
                times = times.map { $0 - 200 * day }.filter { $0 > createdAt }
                times.append(now - Int64(rng.unit() * 5 * Double(day)) - 3600)
            }
            times.sort()
            for t in times {
                let r = rng.unit()
                if r < 0.22 {
                    let amount = max(5, rng.normal(mean: aov, sd: aov * 0.3)).rounded()
                    event(eventLine(id, "purchase", t, "{\"amount\":\(amount)}"))
                } else if r < 0.30 {
                    event(eventLine(id, "cart_abandoned", t, "{\"items\":\(1 + rng.next() % 4)}"))
                } else if r < 0.45 {
                    // Activity (best_time, lifecycle), not engagement: no message in the ledger stands behind
                    // it, and engagement() counts only the ledger's sends (docs/segments.md).
                    event(eventLine(id, "email_open", t, nil))
                } else {
                    event(eventLine(id, "app_open", t, nil))
                }
            }
        }
    }

    private func eventLine(_ user: String, _ name: String, _ t: Int64, _ props: String?) -> String {
        var s = "{\"user_id\":\"\(user)\",\"event\":\"\(name)\",\"timestamp\":\"\(TimestampParser.formatUTC(seconds: t))\""
        if let p = props { s += ",\"properties\":" + p }
        return s + "}"
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
