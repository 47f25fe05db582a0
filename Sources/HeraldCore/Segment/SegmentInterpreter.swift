// Single-user evaluation: a tree walk over `UserFacts`. Must agree exactly with `SegmentBulk`.

/// A runtime value of the single-user evaluator. Timestamps and durations are `.int` seconds.
enum SegValue: Hashable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)
    case int(Int64)
    case strings([String])
    case numbers([Double])

    static func num(_ d: Double) -> SegValue { d.isNaN ? .null : .number(d) }
    static func time(_ t: Int64?) -> SegValue {
        guard let t, t != Int64.min else { return .null }
        return .int(t)
    }
}

/// Evaluates a typed expression for one user.
struct SegmentInterpreter {
    let facts: UserFacts
    let env: EvaluationEnvironment
    let population: PopulationStats

    /// A condition: null and false are both false.
    func holds(_ e: TExpr) -> Bool { eval(e) == .bool(true) }

    func eval(_ e: TExpr) -> SegValue {
        switch e {
        case .number(let v): return .num(v)
        case .string(let v): return .string(v)
        case .bool(let v): return .bool(v)
        case .timestamp(let v), .duration(let v): return .time(v)
        case .stringList(let v): return .strings(v)
        case .numberList(let v): return .numbers(v)
        case .field(let f): return field(f)
        case .now: return .time(env.now)
        case .lifecycle:
            return DerivedFields.lifecycle(facts, env).map { .string($0.rawValue) } ?? .null
        case .rfm(let part):
            guard let s = DerivedFields.rfm(facts, env, population: population) else { return .null }
            switch part {
            case .r: return .number(Double(s.r))
            case .f: return .number(Double(s.f))
            case .m: return .number(Double(s.m))
            }
        case .engagement:
            return facts.engagement.map { SegValue.num($0) } ?? .null
        case .received(let campaign, let window):
            return .bool(facts.received[campaign].map { $0 >= env.now - window } ?? false)
        case .journeyMessage(let fact, let step):
            return .bool(env.journey?.holds(fact, step: step) ?? false)
        case .isBirthday:
            guard let b = facts.profile.birthday else { return .bool(false) }
            let dates = DerivedFields.birthdayDates(zone: facts.profile.timezone, env)
            return .bool(dates.contains { DerivedFields.isBirthday(b, today: $0) })
        case .daysSince(let t):
            guard case .int(let v) = eval(t) else { return .null }
            return .num(SegmentMath.daysSince(v, now: env.now))
        case .aggregate(let kind, let name, let prop, let window):
            guard let s = facts.events[name] else { return kind == .avg ? .null : .number(0) }
            let values = prop.flatMap { s.numbers[$0] }
            return .num(SegmentMath.aggregate(kind, s.timestamps, values, 0..<s.timestamps.count, now: env.now, window: window))
        case .lastEvent(let name):
            guard let t = facts.events[name]?.timestamps else { return .null }
            let hi = SegmentMath.upperBound(t, 0..<t.count, env.now)
            return hi > 0 ? .time(t[hi - 1]) : .null
        case .firstEvent(let name):
            guard let t = facts.events[name]?.timestamps, let f = t.first, f <= env.now else { return .null }
            return .time(f)
        case .not(let x): return .bool(!holds(x))
        case .and(let xs):
            for x in xs where !holds(x) { return .bool(false) }
            return .bool(true)
        case .or(let xs):
            for x in xs where holds(x) { return .bool(true) }
            return .bool(false)
        case .negate(let x, _):
            switch eval(x) {
            case .number(let v): return .num(-v)
            case .int(let v): return .time(SegmentMath.time(.sub, 0, v))
            default: return .null
            }
        case .arith(let op, let l, let r, _, _):
            switch (eval(l), eval(r)) {
            case (.number(let a), .number(let b)): return .num(SegmentMath.num(op, a, b))
            case (.int(let a), .int(let b)): return .time(SegmentMath.time(op, a, b))
            default: return .null
            }
        case .compare(let op, let l, let r, _):
            switch (eval(l), eval(r)) {
            case (.number(let a), .number(let b)): return .bool(op.test(a, b))
            case (.int(let a), .int(let b)): return .bool(op.test(a, b))
            case (.string(let a), .string(let b)): return .bool(op.test(a, b))
            case (.bool(let a), .bool(let b)): return .bool(op == .eq ? a == b : a != b)
            default: return .bool(false)
            }
        case .member(let x, let list, _):
            switch (eval(x), eval(list)) {
            case (.string(let a), .strings(let b)): return .bool(b.contains(a))
            case (.number(let a), .numbers(let b)): return .bool(b.contains(a))
            default: return .bool(false)
            }
        case .substring(let h, let n):
            guard case .string(let a) = eval(h), case .string(let b) = eval(n) else { return .bool(false) }
            return .bool(SegmentText.contains(a, b))
        }
    }

    private func field(_ f: FieldRef) -> SegValue {
        let p = facts.profile
        switch f {
        case .reserved(let r):
            switch r {
            case .id: return .string(p.id)
            case .email: return p.email.map { .string($0) } ?? .null
            case .phone: return p.phone.map { .string($0) } ?? .null
            case .timezone: return p.timezone.map { .string($0) } ?? .null
            case .locale: return p.locale.map { .string($0) } ?? .null
            case .createdAt: return .time(p.createdAt)
            case .birthday: return .time(p.birthday?.midnightUTC)
            case .lastSeenAt: return .time(DerivedFields.lastSeen(facts, now: env.now))
            }
        case .lastSeen: return .time(DerivedFields.lastSeen(facts, now: env.now))
        case .attribute(let name, let type):
            switch (p.attributes[name] ?? .null, type) {
            case (.number(let v), .number): return .num(v)
            case (.string(let v), .string): return .string(v)
            case (.bool(let v), .bool): return .bool(v)
            case (.timestamp(let v), .timestamp): return .time(v)
            case (.list(let v), .list): return .strings(v)
            default: return .null
            }
        }
    }
}

/// String helpers shared by both evaluators.
enum SegmentText {
    /// Substring test on Characters; every string contains "".
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        return haystack.firstRange(of: needle) != nil
    }
}
