// A compact S-expression rendering of typed trees, for tests and debugging.

extension TExpr: CustomStringConvertible {
    /// E.g. `(and (== country "CN") (> (count purchase 30d) 2))`.
    var description: String {
        switch self {
        case .number(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .string(let v): return "\"\(v)\""
        case .bool(let v): return String(v)
        case .timestamp(let v): return TimestampParser.formatUTC(seconds: v)
        case .duration(let v): return DurationSpec.format(v)
        case .stringList(let v): return "[" + v.map { "\"\($0)\"" }.joined(separator: " ") + "]"
        case .numberList(let v): return "[" + v.map { TExpr.number($0).description }.joined(separator: " ") + "]"
        case .field(.reserved(let r)): return r.rawValue
        case .field(.lastSeen): return "last_seen_at"
        case .field(.attribute(let n, _)): return n
        case .now: return "now"
        case .lifecycle: return "lifecycle"
        case .rfm(let p): return "rfm_\(p)"
        case .engagement: return "(engagement)"
        case .received(let c, let w): return "(received \"\(c)\" \(DurationSpec.format(w)))"
        case .isBirthday: return "(is_birthday)"
        case .journeyMessage(let f, let s): return "(\(f.rawValue) \"\(s)\")"
        case .daysSince(let x): return "(days_since \(x))"
        case .aggregate(let k, let e, let p, let w):
            return "(\(k.rawValue) \(e)\(p.map { " " + $0 } ?? "") \(DurationSpec.format(w)))"
        case .lastEvent(let e): return "(last \(e))"
        case .firstEvent(let e): return "(first \(e))"
        case .not(let x): return "(not \(x))"
        case .and(let xs): return "(and " + xs.map(\.description).joined(separator: " ") + ")"
        case .or(let xs): return "(or " + xs.map(\.description).joined(separator: " ") + ")"
        case .negate(let x, _): return "(- \(x))"
        case .arith(let op, let a, let b, _, _): return "(\(op.rawValue) \(a) \(b))"
        case .compare(let op, let a, let b, _): return "(\(op.rawValue) \(a) \(b))"
        case .member(let x, let l, _): return "(in \(x) \(l))"
        case .substring(let a, let b): return "(substr \(a) \(b))"
        }
    }
}

extension CompiledSegment {
    /// The typed tree as an S-expression (named segments inlined).
    var treeDescription: String { expr.description }
}
