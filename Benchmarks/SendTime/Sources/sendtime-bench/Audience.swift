import HeraldCore

/// The synthetic audience: each user's rhythm, learned history and held-out activity.
struct Audience {
    /// How much history a user has.
    enum Group: Int, CaseIterable {
        case rhythmic, sparse, lapsed, none
    }

    var rhythms: [Rhythm] = []
    var groups: [Group] = []
    /// Events before the evaluation week (what Herald learns from), sorted.
    var history: [[Int64]] = []
    /// Events of the evaluation week and the day after (what sends are scored against), sorted.
    var heldOut: [[Int64]] = []
    /// Rhythmic users whose habits changed four weeks before the held-out week.
    var moved: Set<Int> = []

    /// The first instant of the held-out week: Monday 2026-10-26 00:00 UTC, the day after Europe leaves
    /// summer time and six days before the United States does (both inside the scored week's windows).
    static let evaluationStart = CivilDate(year: 2026, month: 10, day: 26).midnightUTC

    /// `users` people: 60 % rhythmic with `weeks` of history (a fifth of them changed habits four weeks
    /// before the held-out week); 17 % new, with 1–5 events from their last
    /// fortnight; 15 % lapsed, with 3–15 events from 13 to 40 weeks ago; 8 % with none. All follow their
    /// rhythm in the held-out week.
    static func generate(users: Int, weeks: Int, seed: UInt64) -> Audience {
        var rng = Rng(state: seed)
        var a = Audience()
        let trainStart = evaluationStart - Int64(weeks) * 604_800
        let firstDay = trainStart / 86_400 - 1
        let lastDay = evaluationStart / 86_400 + 9
        for _ in 0..<users {
            let r = Rhythm.random(&rng)
            let draw = rng.unit()
            let group: Group = draw < 0.60 ? .rhythmic : draw < 0.77 ? .sparse : draw < 0.92 ? .lapsed : .none
            let all = r.events(fromDay: firstDay, toDay: lastDay, rng: &rng)
            var past = all.filter { $0 >= trainStart && $0 < evaluationStart }
            switch group {
            case .rhythmic:
                // One in five changed habits four weeks ago: a new job, a new routine.
                if rng.unit() < 0.2 {
                    var before = Rhythm.random(&rng)
                    before.zone = r.zone
                    let change = evaluationStart - 28 * 86_400
                    let old = before.events(fromDay: firstDay, toDay: change / 86_400 + 1, rng: &rng)
                    past = old.filter { $0 >= trainStart && $0 < change } + past.filter { $0 >= change }
                    a.moved.insert(a.groups.count)
                }
            case .sparse:
                past = pick(past.filter { $0 >= evaluationStart - 14 * 86_400 }, 1 + rng.int(5), &rng)
            case .lapsed:
                let old = r.events(fromDay: firstDay - 40 * 7, toDay: firstDay - 13 * 7, rng: &rng)
                past = pick(old, 3 + rng.int(13), &rng)
            case .none: past = []
            }
            a.rhythms.append(r)
            a.groups.append(group)
            a.history.append(past)
            a.heldOut.append(all.filter { $0 >= evaluationStart && $0 < evaluationStart + 8 * 86_400 })
        }
        return a
    }

    /// `k` of `events` drawn at random (all of them when fewer), in time order.
    static func pick(_ events: [Int64], _ k: Int, _ rng: inout Rng) -> [Int64] {
        var picked = Set<Int>()
        while picked.count < min(k, events.count) { picked.insert(rng.int(events.count)) }
        return picked.sorted().map { events[$0] }
    }

    /// True when user `row` has a held-out event within ±1 hour of `at`.
    func hit(_ row: Int, _ at: Int64) -> Bool {
        let e = heldOut[row]
        var lo = 0
        var hi = e.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if e[mid] < at - 3600 { lo = mid + 1 } else { hi = mid }
        }
        return lo < e.count && e[lo] <= at + 3600
    }

    /// A snapshot of the users' ids, zones and history (email addresses so every user is reachable).
    func snapshot() -> AudienceSnapshot {
        var s = AudienceSnapshot()
        let n = rhythms.count
        s.ids = (0..<n).map { "u\($0)" }
        s.email = s.ids.map { "\($0)@example.com" }
        s.phone = Array(repeating: nil, count: n)
        s.locale = Array(repeating: nil, count: n)
        var codes: [String: Int32] = [:]
        s.timezone = rhythms.map { r in
            if let c = codes[r.zone] { return c }
            codes[r.zone] = Int32(s.timezoneNames.count)
            s.timezoneNames.append(r.zone)
            return codes[r.zone]!
        }
        s.createdAt = Array(repeating: AudienceSnapshot.nullTime, count: n)
        s.lastSeenImported = s.createdAt
        s.birthday = s.createdAt
        s.engagement = Array(repeating: .nan, count: n)
        var offsets = [0]
        var ts: [Int64] = []
        for e in history {
            ts += e
            offsets.append(ts.count)
        }
        s.allEvents = EventColumn(offsets: offsets, timestamps: ts)
        return s
    }
}
