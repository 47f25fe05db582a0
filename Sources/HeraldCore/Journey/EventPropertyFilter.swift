import Foundation

/// A `wait_for.where` condition over one event's properties (docs/journeys.md, "wait_for"): the segment
/// language's syntax, where a bare name is a top-level property of the event and is compared with literals.
/// A missing property, or one of another type than the literal, makes the comparison false, as null does in segments.
public struct EventPropertyFilter: Sendable, CustomStringConvertible {
    /// The expression it was compiled from.
    public let source: SegmentSource
    let predicate: EventPredicate

    /// Compiles `source`; problems are located in its file.
    public static func compile(_ source: SegmentSource) -> (EventPropertyFilter?, [Diagnostic]) {
        switch SegmentParser.parse(source.text) {
        case .failure(let e): return (nil, [SegmentDiagnostics.map(e, source)])
        case .success(let tree):
            var checker = EventPredicateChecker()
            let predicate = checker.condition(tree)
            let diags = checker.errors.map { SegmentDiagnostics.map($0, source) }
            guard let predicate, diags.isEmpty else { return (nil, diags) }
            return (EventPropertyFilter(source: source, predicate: predicate), [])
        }
    }

    /// True when the event with these top-level properties passes.
    public func matches(_ properties: [String: Value]) -> Bool { predicate.holds(properties) }

    /// True when the event whose properties are this JSON object passes; nil or unreadable JSON means no properties.
    public func matches(propertiesJSON: String?) -> Bool { matches(Self.properties(json: propertiesJSON)) }

    /// The top-level properties of a JSON object: strings, numbers, bools and lists of strings; anything else is null.
    public static func properties(json: String?) -> [String: Value] {
        guard let json, let data = json.data(using: .utf8),
            let object = try? JSONDecoder().decode([String: JSONProperty].self, from: data)
        else { return [:] }
        return object.mapValues(\.value)
    }

    /// The condition as an S-expression, e.g. `(and (>= amount 50) (== currency "EUR"))`.
    public var description: String { predicate.description }
}

/// One property value of an event's JSON, decoded without guessing (a JSON `true` is never the number 1).
private struct JSONProperty: Decodable {
    let value: Value

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            value = .number(d)
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let l = try? c.decode([String].self) {
            value = .list(l)
        } else {
            value = .null
        }
    }
}

/// A literal a property is compared with.
enum EventLiteral: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case strings([String])
    case numbers([Double])
}

/// A checked `where` condition.
indirect enum EventPredicate: Sendable, CustomStringConvertible {
    case constant(Bool)
    /// The property is the bool `true`.
    case isTrue(String)
    case not(EventPredicate)
    case and([EventPredicate])
    case or([EventPredicate])
    /// property OP literal
    case compare(CmpOp, String, EventLiteral)
    /// property in [literals]
    case member(String, EventLiteral)
    /// property contains literal: a substring of a string property, or an element of a list property
    case contains(String, EventLiteral)

    func holds(_ p: [String: Value]) -> Bool {
        switch self {
        case .constant(let b): return b
        case .isTrue(let name): return p[name] == .bool(true)
        case .not(let x): return !x.holds(p)
        case .and(let xs): return xs.allSatisfy { $0.holds(p) }
        case .or(let xs): return xs.contains { $0.holds(p) }
        case .compare(let op, let name, let lit):
            switch (p[name] ?? .null, lit) {
            case (.number(let a), .number(let b)): return op.test(a, b)
            case (.string(let a), .string(let b)): return op.test(a, b)
            case (.bool(let a), .bool(let b)): return op == .eq ? a == b : a != b
            default: return false
            }
        case .member(let name, let lit):
            switch (p[name] ?? .null, lit) {
            case (.string(let a), .strings(let l)): return l.contains(a)
            case (.number(let a), .numbers(let l)): return l.contains(a)
            default: return false
            }
        case .contains(let name, let lit):
            switch (p[name] ?? .null, lit) {
            case (.string(let a), .string(let b)): return SegmentText.contains(a, b)
            case (.list(let a), .string(let b)): return a.contains(b)
            default: return false
            }
        }
    }

    var description: String {
        func lit(_ l: EventLiteral) -> String {
            switch l {
            case .number(let v): TExpr.number(v).description
            case .string(let s): TExpr.string(s).description
            case .bool(let b): String(b)
            case .strings(let l): TExpr.stringList(l).description
            case .numbers(let l): TExpr.numberList(l).description
            }
        }
        switch self {
        case .constant(let b): return String(b)
        case .isTrue(let n): return n
        case .not(let x): return "(not \(x))"
        case .and(let xs): return "(and " + xs.map(\.description).joined(separator: " ") + ")"
        case .or(let xs): return "(or " + xs.map(\.description).joined(separator: " ") + ")"
        case .compare(let op, let n, let l): return "(\(op.rawValue) \(n) \(lit(l)))"
        case .member(let n, let l): return "(in \(n) \(lit(l)))"
        case .contains(let n, let l): return "(contains \(n) \(lit(l)))"
        }
    }
}

/// Checks a parsed `where` expression: conditions that compare one property with one literal.
struct EventPredicateChecker {
    private(set) var errors: [SegmentError] = []
    private static let hint =
        "compare a property of the event with a literal, e.g. amount >= 50 and currency == \"EUR\""

    private mutating func fail(_ message: String, _ span: SegSpan, suggestion: String? = hint)
        -> EventPredicate?
    {
        errors.append(SegmentError(message, span, suggestion: suggestion))
        return nil
    }

    mutating func condition(_ s: Syntax) -> EventPredicate? {
        switch s.kind {
        case .bool(let b): return .constant(b)
        case .ident(let name): return .isTrue(name)
        case .unary("not", let x): return condition(x).map { .not($0) }
        case .and(let parts), .or(let parts):
            let checked = parts.map { condition($0) }
            guard checked.allSatisfy({ $0 != nil }) else { return nil }
            let xs = checked.compactMap { $0 }
            if case .and = s.kind { return .and(xs) }
            return .or(xs)
        case .binary(let op, let l, let r)
        where ["==", "!=", "<", "<=", ">", ">=", "in", "contains"].contains(op):
            return comparison(op, l, r, s)
        case .call(let name, let nameSpan, _):
            return fail("functions such as \(name)() are not available in wait_for.where", nameSpan)
        default:
            return fail("wait_for.where must be a condition on the event's properties", s.span)
        }
    }

    /// Reports a function call or arithmetic inside `s`, which `where` does not have; true when it did.
    private mutating func unsupported(_ s: Syntax) -> Bool {
        switch s.kind {
        case .call(let name, let nameSpan, _):
            _ = fail("functions such as \(name)() are not available in wait_for.where", nameSpan)
            return true
        case .binary(let op, _, _) where ["+", "-", "*", "/"].contains(op):
            _ = fail("arithmetic ('\(op)') is not available in wait_for.where", s.opSpan)
            return true
        default:
            return false
        }
    }

    private mutating func comparison(_ op: String, _ l: Syntax, _ r: Syntax, _ s: Syntax) -> EventPredicate? {
        let left = unsupported(l)
        if unsupported(r) || left { return nil }
        switch op {
        case "in":
            guard case .ident(let name) = l.kind else {
                return fail("the left side of 'in' must be a property name", l.span)
            }
            switch literal(r) {
            case .strings(let l)?: return .member(name, .strings(l))
            case .numbers(let l)?: return .member(name, .numbers(l))
            default: return fail("the right side of 'in' must be a list of strings or of numbers", r.span)
            }
        case "contains":
            guard case .ident(let name) = l.kind else {
                return fail("the left side of 'contains' must be a property name", l.span)
            }
            guard let lit = literal(r), case .string = lit else {
                return fail("the right side of 'contains' must be a string", r.span)
            }
            return .contains(name, lit)
        default:
            var cmp = CmpOp(rawValue: op)!
            var (nameSide, litSide) = (l, r)
            if case .ident = r.kind, literal(l) != nil {
                (nameSide, litSide) = (r, l)
                cmp = Self.flipped(cmp)
            }
            guard case .ident(let name) = nameSide.kind else {
                return fail("one side of '\(op)' must be a property name", s.opSpan)
            }
            guard let lit = literal(litSide) else {
                return fail(
                    "the other side of '\(op)' must be a number, string or bool literal", litSide.span)
            }
            switch lit {
            case .strings, .numbers:
                return fail("lists cannot be compared with '\(op)'", s.opSpan, suggestion: "use 'in'")
            case .bool where cmp != .eq && cmp != .ne:
                return fail("bools can only be compared with == and !=", s.opSpan, suggestion: nil)
            default:
                return .compare(cmp, name, lit)
            }
        }
    }

    /// A literal, without reporting: number (also negative), string, bool or a homogeneous list of them.
    private func literal(_ s: Syntax) -> EventLiteral? {
        switch s.kind {
        case .number(let v): return .number(v)
        case .string(let v): return .string(v)
        case .bool(let v): return .bool(v)
        case .unary("-", let x):
            if case .number(let v) = x.kind { return .number(-v) }
            return nil
        case .list(let items):
            let lits = items.map(literal)
            let strings = lits.compactMap { if case .string(let v)? = $0 { v } else { nil } }
            let numbers = lits.compactMap { if case .number(let v)? = $0 { v } else { nil } }
            if strings.count == items.count { return .strings(strings) }
            if numbers.count == items.count { return .numbers(numbers) }
            return nil
        default: return nil
        }
    }

    /// `5 < x` is `x > 5`.
    private static func flipped(_ op: CmpOp) -> CmpOp {
        switch op {
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        case .eq, .ne: op
        }
    }
}
