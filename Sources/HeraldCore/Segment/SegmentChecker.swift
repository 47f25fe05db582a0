// Type checker: Syntax → TExpr against the attribute schema, reserved and derived fields.
// Errors in independent subexpressions are all reported; a subexpression that failed does not
// cause further errors in the expressions around it.

/// Looks up a named segment for `in_segment`: the inlined AST, or an error message.
typealias SegmentResolver = (String) -> SegmentLookup

/// The answer of a `SegmentResolver`.
enum SegmentLookup {
    case found(TExpr)
    case missing(String)
}

/// Checks one parsed expression.
struct SegmentChecker {
    static let functions = [
        "days_since", "count", "sum", "avg", "last", "first", "in_segment", "is_birthday", "engagement", "date",
        "received",
    ]
    static let derived: [String: SType] = [
        "lifecycle": .string, "rfm_r": .number, "rfm_f": .number, "rfm_m": .number, "now": .timestamp,
    ]

    let schema: AttributeSchema
    let resolve: SegmentResolver
    private(set) var errors: [SegmentError] = []

    init(schema: AttributeSchema, resolve: @escaping SegmentResolver) {
        self.schema = schema
        self.resolve = resolve
    }

    /// All field names a segment may use.
    var fieldNames: [String] {
        ReservedField.allCases.map(\.rawValue) + Self.derived.keys.sorted() + schema.names
    }

    mutating func fail(_ msg: String, _ span: SegSpan, suggestion: String? = nil) -> (TExpr, SType)? {
        errors.append(SegmentError(msg, span, suggestion: suggestion))
        return nil
    }

    /// Checks a whole segment: it must be a bool.
    mutating func checkCondition(_ s: Syntax) -> TExpr? {
        guard let (e, t) = check(s) else { return nil }
        if t != .bool {
            _ = fail("a segment must be a condition (bool), but this is a \(t)", s.span,
                suggestion: t == .number || t == .timestamp ? "compare it, e.g. '... > 0'" : nil)
            return nil
        }
        return e
    }

    mutating func check(_ s: Syntax) -> (TExpr, SType)? {
        switch s.kind {
        case .number(let v): return (.number(v), .number)
        case .string(let v): return (.string(v), .string)
        case .bool(let v): return (.bool(v), .bool)
        case .duration(let v): return (.duration(v), .duration)
        case .list(let items): return checkList(items, s.span)
        case .ident(let name): return checkIdent(name, s.span)
        case .call(let name, let nameSpan, let args): return checkCall(name, nameSpan, args, s.span)
        case .unary(let op, let operand):
            guard let (e, t) = check(operand) else { return nil }
            if op == "not" {
                guard t == .bool else { return fail("'not' needs a bool, but this is a \(t)", operand.span) }
                return (.not(e), .bool)
            }
            guard t == .number || t == .duration else {
                return fail("unary '-' needs a number or a duration, but this is a \(t)", operand.span)
            }
            return (.negate(e, t), t)
        case .and(let parts), .or(let parts):
            let isAnd = if case .and = s.kind { true } else { false }
            var out: [TExpr] = []
            var ok = true
            for part in parts {
                guard let (e, t) = check(part) else {
                    ok = false
                    continue
                }
                if t != .bool {
                    _ = fail("'\(isAnd ? "and" : "or")' needs bool operands, but this is a \(t)", part.span)
                    ok = false
                }
                out.append(e)
            }
            guard ok else { return nil }
            return (isAnd ? .and(out) : .or(out), .bool)
        case .binary(let op, let l, let r):
            let lc = check(l)
            let rc = check(r)
            guard let (le, lt) = lc, let (re, rt) = rc else { return nil }
            return checkBinary(op, le, lt, re, rt, s)
        }
    }

    private mutating func checkList(_ items: [Syntax], _ span: SegSpan) -> (TExpr, SType)? {
        var strings: [String] = []
        var numbers: [Double] = []
        for item in items {
            switch item.kind {
            case .string(let v): strings.append(v)
            case .number(let v): numbers.append(v)
            case .unary("-", let inner):
                if case .number(let v) = inner.kind { numbers.append(-v) } else {
                    return fail("list items must be string or number literals", item.span)
                }
            default: return fail("list items must be string or number literals", item.span)
            }
        }
        if !strings.isEmpty && !numbers.isEmpty {
            return fail("a list must hold only strings or only numbers", span)
        }
        return numbers.isEmpty ? (.stringList(strings), .stringList) : (.numberList(numbers), .numberList)
    }

    private mutating func checkIdent(_ name: String, _ span: SegSpan) -> (TExpr, SType)? {
        if let r = ReservedField(rawValue: name) {
            return r == .lastSeenAt ? (.field(.lastSeen), .timestamp) : (.field(.reserved(r)), SType(r.type))
        }
        switch name {
        case "lifecycle": return (.lifecycle, .string)
        case "rfm_r": return (.rfm(.r), .number)
        case "rfm_f": return (.rfm(.f), .number)
        case "rfm_m": return (.rfm(.m), .number)
        case "now": return (.now, .timestamp)
        default: break
        }
        if let t = schema[name] { return (.field(.attribute(name, t)), SType(t)) }
        if Self.functions.contains(name) {
            return fail("'\(name)' is a function", span, suggestion: "call it: \(name)(...)")
        }
        return fail("unknown field '\(name)'", span, suggestion: NearMiss.didYouMean(name, among: fieldNames))
    }

    /// An event or property name: a string literal or a bare identifier.
    private mutating func nameArg(_ s: Syntax, _ what: String) -> String? {
        switch s.kind {
        case .string(let v) where !v.isEmpty: return v
        case .ident(let v): return v
        default:
            _ = fail("expected \(what) name (a string such as \"purchase\" or a bare name)", s.span)
            return nil
        }
    }

    private mutating func windowArg(_ s: Syntax) -> Int64? {
        if case .duration(let d) = s.kind { return d }
        _ = fail("the window must be a duration literal such as 30d", s.span)
        return nil
    }

    private mutating func checkCall(_ name: String, _ nameSpan: SegSpan, _ args: [Syntax], _ span: SegSpan)
        -> (TExpr, SType)?
    {
        if let fact = JourneyMessageFact(rawValue: name) {
            return checkJourneyCall(fact, nameSpan, args, span)
        }
        let arity: [String: (Int, String)] = [
            "days_since": (1, "days_since(timestamp)"), "count": (2, "count(event, window)"),
            "sum": (3, "sum(event, property, window)"), "avg": (3, "avg(event, property, window)"),
            "last": (1, "last(event)"), "first": (1, "first(event)"), "in_segment": (1, "in_segment(name)"),
            "is_birthday": (0, "is_birthday()"), "engagement": (0, "engagement()"), "date": (1, "date(\"YYYY-MM-DD\")"),
            "received": (2, "received(\"campaign-id\", window)"),
        ]
        guard let (n, usage) = arity[name] else {
            if ReservedField(rawValue: name) != nil || Self.derived[name] != nil || schema[name] != nil {
                return fail("'\(name)' is a field, not a function", nameSpan, suggestion: "write \(name) without parentheses")
            }
            // The nearest name when there is one, and always the list: a guess far from every name gets help too.
            let list = "functions: " + Self.functions.compactMap { arity[$0]?.1 }.joined(separator: ", ")
            let hint = NearMiss.didYouMean(name, among: Self.functions).map { "\($0) \(list)" } ?? list
            return fail("unknown function '\(name)'", nameSpan, suggestion: hint)
        }
        guard args.count == n else {
            return fail("\(name) takes \(n) argument\(n == 1 ? "" : "s"), got \(args.count)", span, suggestion: "usage: \(usage)")
        }
        switch name {
        case "days_since":
            guard let (e, t) = check(args[0]) else { return nil }
            guard t == .timestamp else { return fail("days_since needs a timestamp, but this is a \(t)", args[0].span) }
            return (.daysSince(e), .number)
        case "count":
            let ev = nameArg(args[0], "an event")
            let w = windowArg(args[1])
            guard let ev, let w else { return nil }
            return (.aggregate(.count, ev, nil, w), .number)
        case "sum", "avg":
            let ev = nameArg(args[0], "an event")
            let prop = nameArg(args[1], "a property")
            let w = windowArg(args[2])
            guard let ev, let prop, let w else { return nil }
            return (.aggregate(name == "sum" ? .sum : .avg, ev, prop, w), .number)
        case "last", "first":
            guard let ev = nameArg(args[0], "an event") else { return nil }
            return (name == "last" ? .lastEvent(ev) : .firstEvent(ev), .timestamp)
        case "in_segment":
            guard let seg = nameArg(args[0], "a segment") else { return nil }
            switch resolve(seg) {
            case .found(let e): return (e, .bool)
            case .missing(let msg):
                return fail(msg, args[0].span, suggestion: suggestionForSegment(seg))
            }
        case "is_birthday": return (.isBirthday, .bool)
        case "engagement": return (.engagement, .number)
        case "received":
            let campaign = nameArg(args[0], "a campaign id")
            let w = windowArg(args[1])
            guard let campaign, let w else { return nil }
            return (.received(campaign, w), .bool)
        default:  // date
            guard case .string(let text) = args[0].kind else {
                return fail("date needs a string literal \"YYYY-MM-DD\"", args[0].span)
            }
            guard let d = TimestampParser.parseDate(text) else {
                return fail("invalid date \"\(text)\"", args[0].span, suggestion: "write a real date as \"YYYY-MM-DD\"")
            }
            return (.timestamp(d.midnightUTC), .timestamp)
        }
    }

    /// Set by the compiler so unknown segment names get a near-miss suggestion.
    var segmentNames: [String] = []
    /// Set when checking a journey's branch condition: the steps sent(), opened() and clicked() may name.
    var journey: JourneyFunctionScope?

    private func suggestionForSegment(_ name: String) -> String? {
        NearMiss.didYouMean(name, among: segmentNames.filter { $0 != name })
    }

    /// The literal compared with `lifecycle` when it names no stage.
    private func unknownStage(_ a: TExpr, _ b: TExpr) -> String? {
        guard case .lifecycle = a, case .string(let lit) = b, LifecycleStage(rawValue: lit) == nil else { return nil }
        return lit
    }

    private mutating func checkBinary(_ op: String, _ le: TExpr, _ lt: SType, _ re: TExpr, _ rt: SType, _ s: Syntax)
        -> (TExpr, SType)?
    {
        guard case .binary(_, _, let r) = s.kind else { return nil }
        switch op {
        case "+", "-", "*", "/":
            let aop = ArithOp(rawValue: op)!
            let result: SType?
            switch (lt, rt, aop) {
            case (.number, .number, _): result = .number
            case (.timestamp, .duration, .add), (.timestamp, .duration, .sub), (.duration, .timestamp, .add):
                result = .timestamp
            case (.timestamp, .timestamp, .sub), (.duration, .duration, .add), (.duration, .duration, .sub):
                result = .duration
            default: result = nil
            }
            guard let result else {
                var hint: String? = nil
                if lt == .timestamp && rt == .number || lt == .number && rt == .timestamp {
                    hint = "write durations with a unit, e.g. now - 30d"
                }
                return fail("operator '\(op)' cannot be applied to \(lt) and \(rt)", s.opSpan, suggestion: hint)
            }
            return (.arith(aop, le, re, lt, rt), result)
        case "in":
            switch (lt, rt) {
            case (.string, .stringList), (.number, .numberList):
                if case .lifecycle = le, case .stringList(let items) = re,
                    let bad = items.first(where: { LifecycleStage(rawValue: $0) == nil })
                {
                    return fail("lifecycle is never \"\(bad)\"", r.span,
                        suggestion: NearMiss.didYouMean(bad, among: LifecycleStage.allCases.map(\.rawValue)))
                }
                return (.member(le, re, lt), .bool)
            case (.number, .stringList) where re == .stringList([]): return (.member(le, .numberList([]), .number), .bool)
            default:
                return fail("'in' needs a value and a list of the same type, but got \(lt) in \(rt)", s.opSpan,
                    suggestion: lt == .stringList ? "to test a list, write 'list contains value'" : nil)
            }
        case "contains":
            switch (lt, rt) {
            case (.stringList, .string), (.numberList, .number): return (.member(re, le, rt), .bool)
            case (.string, .string): return (.substring(le, re), .bool)
            default:
                return fail("'contains' needs a list and an item, or two strings, but got \(lt) contains \(rt)", s.opSpan)
            }
        default:
            let cop = CmpOp(rawValue: op)!
            guard lt == rt else {
                var hint: String? = nil
                if lt == .duration && rt == .number || lt == .number && rt == .duration {
                    hint = "write durations with a unit, e.g. 30d"
                } else if lt == .timestamp && rt == .string || lt == .string && rt == .timestamp {
                    hint = "write dates as date(\"YYYY-MM-DD\")"
                }
                return fail("cannot compare \(lt) with \(rt) using '\(op)'", s.opSpan, suggestion: hint)
            }
            if lt == .string, let bad = unknownStage(le, re) ?? unknownStage(re, le) {
                return fail("lifecycle is never \"\(bad)\"", s.span,
                    suggestion: NearMiss.didYouMean(bad, among: LifecycleStage.allCases.map(\.rawValue))
                        ?? "stages are " + LifecycleStage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            switch lt {
            case .stringList, .numberList:
                return fail("lists cannot be compared with '\(op)'", s.opSpan, suggestion: "use 'in' or 'contains'")
            case .bool where cop != .eq && cop != .ne:
                return fail("bools can only be compared with == and !=", s.opSpan)
            default:
                return (.compare(cop, le, re, lt), .bool)
            }
        }
    }
}
