// The typed AST produced by the checker and consumed by both evaluators.

/// The static types of the segment language.
enum SType: Hashable, Sendable, CustomStringConvertible {
    case number, string, bool, timestamp, duration, stringList, numberList

    var description: String {
        switch self {
        case .number: "number"
        case .string: "string"
        case .bool: "bool"
        case .timestamp: "timestamp"
        case .duration: "duration"
        case .stringList: "list of strings"
        case .numberList: "list of numbers"
        }
    }

    init(_ a: AttributeType) {
        switch a {
        case .string: self = .string
        case .number: self = .number
        case .bool: self = .bool
        case .timestamp: self = .timestamp
        case .list: self = .stringList
        }
    }
}

/// A profile field a segment reads.
enum FieldRef: Hashable, Sendable {
    /// id email phone timezone locale created_at birthday (last_seen_at is `.lastSeen`).
    case reserved(ReservedField)
    /// The derived "seen" time (docs/segments.md).
    case lastSeen
    /// A custom attribute of its declared type.
    case attribute(String, AttributeType)
}

/// count / sum / avg over a window.
enum AggKind: String, Hashable, Sendable { case count, sum, avg }

/// Which RFM score.
enum RFMPart: Hashable, Sendable { case r, f, m }

/// Arithmetic operators.
enum ArithOp: String, Hashable, Sendable { case add = "+", sub = "-", mul = "*", div = "/" }

/// Comparison operators.
enum CmpOp: String, Hashable, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

    /// Applies the operator to two comparable, non-null values.
    @inline(__always) func test<T: Comparable>(_ a: T, _ b: T) -> Bool {
        switch self {
        case .eq: a == b
        case .ne: a != b
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        }
    }
}

/// A type-checked expression. Timestamps and durations are Int64 seconds.
indirect enum TExpr: Hashable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case timestamp(Int64)
    case duration(Int64)
    case stringList([String])
    case numberList([Double])
    case field(FieldRef)
    case now
    case lifecycle
    case rfm(RFMPart)
    case engagement
    /// received("campaign", window): the campaign sent to the user within the window
    case received(String, Int64)
    case isBirthday
    case daysSince(TExpr)
    /// kind, event, property (sum/avg), window seconds
    case aggregate(AggKind, String, String?, Int64)
    case lastEvent(String)
    case firstEvent(String)
    case not(TExpr)
    case and([TExpr])
    case or([TExpr])
    /// operand type: number or duration
    case negate(TExpr, SType)
    /// op, lhs, rhs, lhs type, rhs type
    case arith(ArithOp, TExpr, TExpr, SType, SType)
    /// op, lhs, rhs, operand type (both sides have it)
    case compare(CmpOp, TExpr, TExpr, SType)
    /// element, list, element type (string or number); `x in list` and `list contains x`
    case member(TExpr, TExpr, SType)
    /// haystack contains needle, both strings
    case substring(TExpr, TExpr)
    /// sent("step") / opened("step") / clicked("step") in a journey's branch condition
    case journeyMessage(JourneyMessageFact, String)

    /// The nesting depth of the tree.
    var depth: Int {
        switch self {
        case .daysSince(let e), .not(let e), .negate(let e, _): 1 + e.depth
        case .and(let es), .or(let es): 1 + (es.map(\.depth).max() ?? 0)
        case .arith(_, let a, let b, _, _), .compare(_, let a, let b, _), .member(let a, let b, _), .substring(let a, let b):
            1 + max(a.depth, b.depth)
        default: 1
        }
    }

    /// True when `is_birthday()` occurs anywhere in the tree.
    var testsBirthday: Bool {
        switch self {
        case .isBirthday: true
        case .daysSince(let e), .not(let e), .negate(let e, _): e.testsBirthday
        case .and(let es), .or(let es): es.contains { $0.testsBirthday }
        case .arith(_, let a, let b, _, _), .compare(_, let a, let b, _), .member(let a, let b, _), .substring(let a, let b):
            a.testsBirthday || b.testsBirthday
        default: false
        }
    }

    /// Adds what this expression needs from a snapshot to `req`.
    func collectRequirements(into req: inout SnapshotRequirements) {
        switch self {
        case .rfm:
            req.events.insert("purchase")
            req.eventNumbers["purchase", default: []].insert("amount")
        case .aggregate(_, let e, let p, _):
            req.events.insert(e)
            if let p { req.eventNumbers[e, default: []].insert(p) }
        case .lastEvent(let e), .firstEvent(let e):
            req.events.insert(e)
        case .engagement:
            req.engagement = true
        case .received(let campaign, let window):
            req.received[campaign] = max(req.received[campaign] ?? 0, window)
        case .daysSince(let e), .not(let e), .negate(let e, _):
            e.collectRequirements(into: &req)
        case .and(let es), .or(let es):
            for e in es { e.collectRequirements(into: &req) }
        case .arith(_, let a, let b, _, _), .compare(_, let a, let b, _), .member(let a, let b, _), .substring(let a, let b):
            a.collectRequirements(into: &req)
            b.collectRequirements(into: &req)
        default:
            break
        }
    }
}

/// Arithmetic shared by both evaluators so they agree bit for bit.
enum SegmentMath {
    /// Number arithmetic; division by zero and NaN results are null (NaN).
    @inline(__always) static func num(_ op: ArithOp, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return b == 0 ? .nan : a / b
        }
    }

    /// Time arithmetic (only + and -); overflow and the null sentinel give null (`Int64.min`).
    @inline(__always) static func time(_ op: ArithOp, _ a: Int64, _ b: Int64) -> Int64 {
        if a == Int64.min || b == Int64.min { return Int64.min }
        let (r, o) = op == .add ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
        return o ? Int64.min : r
    }

    /// `now - w`, saturating.
    @inline(__always) static func windowStart(_ now: Int64, _ w: Int64) -> Int64 {
        let (r, o) = now.subtractingReportingOverflow(w)
        return o ? Int64.min + 1 : r
    }

    /// Whole days from `t` to `now`, rounded down.
    @inline(__always) static func daysSince(_ t: Int64, now: Int64) -> Double {
        let (d, o) = now.subtractingReportingOverflow(t)
        if o { return .nan }
        let days = d >= 0 ? d / 86_400 : -((-d + 86_399) / 86_400)
        return Double(days)
    }

    /// First index in `r` whose value is >= `v` (values ascending).
    @inline(__always) static func lowerBound(_ a: [Int64], _ r: Range<Int>, _ v: Int64) -> Int {
        var lo = r.lowerBound
        var hi = r.upperBound
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// First index in `r` whose value is > `v` (values ascending).
    @inline(__always) static func upperBound(_ a: [Int64], _ r: Range<Int>, _ v: Int64) -> Int {
        var lo = r.lowerBound
        var hi = r.upperBound
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if a[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// count / sum / avg of events of `r` inside the window ending at `now`; NaN for an empty avg.
    @inline(__always) static func aggregate(
        _ kind: AggKind, _ ts: [Int64], _ values: [Double]?, _ r: Range<Int>, now: Int64, window: Int64
    ) -> Double {
        let lo = lowerBound(ts, r, windowStart(now, window))
        let hi = upperBound(ts, lo..<r.upperBound, now)
        if kind == .count { return Double(hi - lo) }
        guard let values else { return kind == .sum ? 0 : .nan }
        var sum = 0.0
        var n = 0
        var k = lo
        while k < hi {
            let v = values[k]
            if !v.isNaN {
                sum += v
                n += 1
            }
            k += 1
        }
        if kind == .sum { return sum }
        return n == 0 ? .nan : sum / Double(n)
    }
}
