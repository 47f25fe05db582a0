import Foundation

// Bulk evaluation: the typed AST is compiled once per evaluation into closures over the
// snapshot's columns, then run for every row. Nulls follow the snapshot's sentinels:
// NaN for numbers, Int64.min for times and durations, nil for strings.

/// A compiled subexpression over snapshot rows.
enum BulkCol {
    case num((Int) -> Double)
    case int((Int) -> Int64)
    case str((Int) -> String?)
    /// A dictionary-encoded string column (code -1 = null), kept apart so literals compare once per code.
    case dict([Int32], [String])
    /// A never-null condition.
    case cond((Int) -> Bool)
    /// A bool that may be null: -1 null, 0 false, 1 true.
    case bool3((Int) -> Int8)
    /// A list attribute column.
    case list(offsets: [Int32], codes: [Int32], dictionary: [String], isNull: [Bool])
    case strings([String])
    case numbers([Double])
}

/// Compiles typed expressions against one snapshot and environment.
struct SegmentBulk {
    let snap: AudienceSnapshot
    let env: EvaluationEnvironment
    let population: PopulationStats

    /// One Bool per row.
    func run(_ e: TExpr) -> [Bool] {
        // The compiled closures only read immutable captured columns, so two threads may share them.
        nonisolated(unsafe) let pred = cond(e)
        let n = snap.count
        return [Bool](unsafeUninitializedCapacity: n) { buf, initialized in
            nonisolated(unsafe) let base = buf.baseAddress
            let chunks = n >= 65_536 ? 2 : 1
            let per = (n + chunks - 1) / chunks
            if chunks == 1 {
                for i in 0..<n { (base! + i).initialize(to: pred(i)) }
            } else {
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = c * per
                    let hi = min(n, lo + per)
                    var i = lo
                    while i < hi {
                        (base! + i).initialize(to: pred(i))
                        i += 1
                    }
                }
            }
            initialized = n
        }
    }

    func cond(_ e: TExpr) -> (Int) -> Bool {
        switch compile(e) {
        case .cond(let f): return f
        case .bool3(let f): return { f($0) == 1 }
        default: return { _ in false }
        }
    }

    func num(_ e: TExpr) -> (Int) -> Double {
        if case .num(let f) = compile(e) { return f }
        return { _ in .nan }
    }

    func int(_ e: TExpr) -> (Int) -> Int64 {
        if case .int(let f) = compile(e) { return f }
        return { _ in Int64.min }
    }

    func str(_ c: BulkCol) -> (Int) -> String? {
        switch c {
        case .str(let f): return f
        case .dict(let codes, let dict):
            return { i in
                let k = codes[i]
                return k < 0 ? nil : dict[Int(k)]
            }
        default: return { _ in nil }
        }
    }

    /// A -1/0/1 view of a bool expression, for comparisons that must see nulls.
    func bool3(_ c: BulkCol) -> (Int) -> Int8 {
        switch c {
        case .bool3(let f): return f
        case .cond(let f): return { f($0) ? 1 : 0 }
        default: return { _ in -1 }
        }
    }

    func compile(_ e: TExpr) -> BulkCol {
        let now = env.now
        switch e {
        case .number(let v): return .num { _ in v }
        case .string(let v): return .str { _ in v }
        case .bool(let v): return .cond { _ in v }
        case .timestamp(let v), .duration(let v): return .int { _ in v }
        case .stringList(let v): return .strings(v)
        case .numberList(let v): return .numbers(v)
        case .field(let f): return field(f)
        case .now: return .int { _ in now }
        case .lifecycle:
            let t = snap.allEvents.timestamps
            let offs = snap.allEvents.offsets
            let created = snap.createdAt
            let imported = snap.lastSeenImported
            let env = env
            return .str { i in
                DerivedFields.stage(t, offs[i]..<offs[i + 1], createdAt: created[i], imported: imported[i], env)?.rawValue
            }
        case .rfm(let part):
            guard let col = snap.events["purchase"] else { return .num { _ in .nan } }
            let t = col.timestamps
            let offs = col.offsets
            let amounts = col.numbers["amount"]
            let env = env
            let pop = population
            return .num { i in
                guard let raw = DerivedFields.rfmRaw(t, amounts, offs[i]..<offs[i + 1], env),
                    let s = pop.score(part, r: raw.r, f: raw.f, m: raw.m)
                else { return .nan }
                return Double(s)
            }
        case .engagement:
            let g = snap.engagement
            return .num { g[$0] }
        case .received(let campaign, let window):
            let column = snap.received[campaign] ?? []
            let since = env.now - window
            return .cond { i in i < column.count && column[i] != AudienceSnapshot.nullTime && column[i] >= since }
        case .journeyMessage(let fact, let step):
            let v = env.journey?.holds(fact, step: step) ?? false
            return .cond { _ in v }
        case .isBirthday:
            let defaultToday = DerivedFields.birthdayDates(zone: nil, env)
            let todays = snap.timezoneNames.map { DerivedFields.birthdayDates(zone: $0, env) }
            let tz = snap.timezone
            let bday = snap.birthday
            return .cond { i in
                let b = bday[i]
                if b == AudienceSnapshot.nullTime { return false }
                let z = tz[i]
                let birthday = CivilDate(epochSeconds: b)
                return (z < 0 ? defaultToday : todays[Int(z)]).contains { DerivedFields.isBirthday(birthday, today: $0) }
            }
        case .daysSince(let x):
            let f = int(x)
            return .num { i in
                let v = f(i)
                return v == Int64.min ? .nan : SegmentMath.daysSince(v, now: now)
            }
        case .aggregate(let kind, let name, let prop, let window):
            guard let col = snap.events[name] else { return .num { _ in kind == .avg ? .nan : 0 } }
            let t = col.timestamps
            let offs = col.offsets
            let values = prop.flatMap { col.numbers[$0] }
            if kind == .count {
                let start = SegmentMath.windowStart(now, window)
                return .num { i in
                    let end = offs[i + 1]
                    let lo = SegmentMath.lowerBound(t, offs[i]..<end, start)
                    return Double(SegmentMath.upperBound(t, lo..<end, now) - lo)
                }
            }
            return .num { i in
                SegmentMath.aggregate(kind, t, values, offs[i]..<offs[i + 1], now: now, window: window)
            }
        case .lastEvent(let name), .firstEvent(let name):
            guard let col = snap.events[name] else { return .int { _ in Int64.min } }
            let t = col.timestamps
            let offs = col.offsets
            if case .firstEvent = e {
                return .int { i in
                    let lo = offs[i]
                    return lo < offs[i + 1] && t[lo] <= now ? t[lo] : Int64.min
                }
            }
            return .int { i in
                let lo = offs[i]
                let hi = SegmentMath.upperBound(t, lo..<offs[i + 1], now)
                return hi > lo ? t[hi - 1] : Int64.min
            }
        case .not(let x):
            let f = cond(x)
            return .cond { !f($0) }
        case .and(let xs):
            // Nested two-way closures: no per-row iteration over an array of closures.
            var f = cond(xs[xs.count - 1])
            for x in xs.dropLast().reversed() {
                let (a, b) = (cond(x), f)
                f = { a($0) && b($0) }
            }
            return .cond(f)
        case .or(let xs):
            var f = cond(xs[xs.count - 1])
            for x in xs.dropLast().reversed() {
                let (a, b) = (cond(x), f)
                f = { a($0) || b($0) }
            }
            return .cond(f)
        case .negate(let x, let t):
            if t == .number {
                let f = num(x)
                return .num { -f($0) }
            }
            let f = int(x)
            return .int { SegmentMath.time(.sub, 0, f($0)) }
        case .arith(let op, let l, let r, let lt, _):
            if lt == .number {
                let (a, b) = (num(l), num(r))
                return .num { SegmentMath.num(op, a($0), b($0)) }
            }
            let (a, b) = (int(l), int(r))
            return .int { SegmentMath.time(op, a($0), b($0)) }
        case .compare(let op, let l, let r, let t):
            return .cond(compare(op, l, r, t))
        case .member(let x, let list, let t):
            return .cond(member(x, list, t))
        case .substring(let h, let n):
            let (a, b) = (str(compile(h)), str(compile(n)))
            return .cond { i in
                guard let x = a(i), let y = b(i) else { return false }
                return SegmentText.contains(x, y)
            }
        }
    }
}
