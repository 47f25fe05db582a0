// Why a segment has the value it has for one user: the sub-expressions that decided it, with their values.

extension CompiledSegment {
    /// The conditions that decided this segment's value for one user, each as `SUB-EXPRESSION is true|false`
    /// followed by the values of its non-literal operands, e.g. `(>= rfm_m 4) is false: rfm_m = 2`.
    /// Sub-expressions print as `SegmentPrint`'s S-expressions, named segments inlined. `a and b` that is false
    /// is explained by its false conjuncts, one that is true by all of them; `or` likewise by its true
    /// disjuncts or all of them; `not x` by what explains `x`.
    public func explain(_ facts: UserFacts, _ env: EvaluationEnvironment, population: PopulationStats)
        -> [String]
    {
        var out: [String] = []
        SegmentExplainer(
            interpreter: SegmentInterpreter(facts: facts, env: env, population: population)
        ).collect(expr, into: &out)
        return out
    }
}

/// Walks a typed tree down to the leaf conditions that decided it.
struct SegmentExplainer {
    let interpreter: SegmentInterpreter

    /// Adds to `out` the leaves that make `e` come out as it does.
    func collect(_ e: TExpr, into out: inout [String]) {
        switch e {
        case .and(let xs), .or(let xs):
            // The parts with the same value as the whole decided it: a false `and`'s false conjuncts, a true
            // `or`'s true disjuncts, and every part otherwise.
            let whole = interpreter.holds(e)
            for x in xs where interpreter.holds(x) == whole { collect(x, into: &out) }
        case .not(let x):
            collect(x, into: &out)
        default:
            out.append(leaf(e))
        }
    }

    /// `e is true|false`, then its non-literal operands' values.
    func leaf(_ e: TExpr) -> String {
        let verdict = "\(e) is \(interpreter.holds(e))"
        var operands: [(TExpr, SType?)] = []
        switch e {
        case .compare(_, let l, let r, let t): operands = [(l, t), (r, t)]
        case .member(let x, let list, let t):
            operands = [(x, t), (list, t == .string ? .stringList : .numberList)]
        case .substring(let h, let n): operands = [(h, .string), (n, .string)]
        case .field where interpreter.eval(e) == .null: return verdict + ": \(e) = null"
        default: break
        }
        let values = operands.filter { !Self.isLiteral($0.0) }.map { "\($0.0) = \(format($0.0, $0.1))" }
        return values.isEmpty ? verdict : verdict + ": " + values.joined(separator: ", ")
    }

    /// `e`'s value for the user; `type` tells a timestamp from a duration (both are seconds).
    func format(_ e: TExpr, _ type: SType?) -> String {
        switch interpreter.eval(e) {
        case .null: return "null"
        case .number(let v): return TExpr.number(v).description
        case .string(let s): return TExpr.string(s).description
        case .bool(let b): return String(b)
        case .int(let v):
            return type == .duration ? TExpr.duration(v).description : TExpr.timestamp(v).description
        case .strings(let l): return TExpr.stringList(l).description
        case .numbers(let l): return TExpr.numberList(l).description
        }
    }

    /// True for literals, whose value is their text.
    static func isLiteral(_ e: TExpr) -> Bool {
        switch e {
        case .number, .string, .bool, .timestamp, .duration, .stringList, .numberList: true
        default: false
        }
    }
}
