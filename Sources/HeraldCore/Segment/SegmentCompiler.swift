// The public entry points: compiling named segments into a catalog, compiling one segment,
// and evaluating it in bulk or for one user.

/// The named segments of herald.yaml, compiled and ready to be inlined by `in_segment`.
public struct SegmentCatalog: Sendable {
    /// A catalog without segments.
    public static let empty = SegmentCatalog()

    /// Compiled segments by name.
    var compiled: [String: TExpr] = [:]
    /// Names that were declared but failed to compile.
    var invalid: Set<String> = []
    /// The sources of the compiled segments.
    var sources: [String: SegmentSource] = [:]

    /// The names of the segments that compiled, sorted.
    public var names: [String] { compiled.keys.sorted() }

    /// The named segment, compiled on its own (for listing and dry runs), or nil when unknown or invalid.
    public func segment(named name: String) -> CompiledSegment? {
        guard let expr = compiled[name], let source = sources[name] else { return nil }
        var req = SnapshotRequirements()
        expr.collectRequirements(into: &req)
        return CompiledSegment(source: source, requirements: req, expr: expr)
    }
}

/// A segment expression checked and compiled, ready to evaluate.
public struct CompiledSegment: Sendable {
    /// The expression it was compiled from.
    public var source: SegmentSource
    /// The events and (event, numeric property) pairs it needs, incl. purchase/amount when RFM is used.
    public var requirements: SnapshotRequirements
    /// The typed tree with named segments inlined.
    var expr: TExpr

    /// True when the expression calls `is_birthday()` (also through `in_segment`).
    public var testsBirthday: Bool { expr.testsBirthday }

    /// Bulk: one Bool per snapshot row; pass `PopulationStats.compute(snapshot, env)` when RFM scores matter.
    public func evaluate(_ snapshot: AudienceSnapshot, _ env: EvaluationEnvironment, population: PopulationStats) -> [Bool] {
        SegmentBulk(snap: snapshot, env: env, population: population).run(expr)
    }

    /// Single user (event path); agrees with `evaluate` exactly.
    public func matches(_ facts: UserFacts, _ env: EvaluationEnvironment, population: PopulationStats) -> Bool {
        SegmentInterpreter(facts: facts, env: env, population: population).holds(expr)
    }
}

/// Compiles segment expressions (docs/segments.md) and reports problems as diagnostics.
public enum SegmentCompiler {
    /// The deepest typed tree accepted after `in_segment` inlining.
    static let maxInlinedDepth = 512

    /// Compiles named segments (herald.yaml `segments:`), resolving in_segment references among them; reports unknown names and cycles.
    public static func catalog(_ named: [SegmentSource], schema: AttributeSchema) -> (SegmentCatalog, [Diagnostic]) {
        var diags: [Diagnostic] = []
        var sources: [String: SegmentSource] = [:]
        var trees: [String: Syntax] = [:]
        var catalog = SegmentCatalog()
        var order: [String] = []
        for src in named {
            let name = src.name ?? ""
            if sources[name] != nil {
                diags.append(SegmentDiagnostics.map(SegmentError("segment '\(name)' is defined twice", wholeSpan(src.text)), src))
                continue
            }
            sources[name] = src
            order.append(name)
            switch SegmentParser.parse(src.text) {
            case .success(let t): trees[name] = t
            case .failure(let e):
                diags.append(SegmentDiagnostics.map(e, src))
                catalog.invalid.insert(name)
            }
        }
        // References between segments, for cycle detection.
        var refs: [String: [(String, SegSpan)]] = [:]
        for (name, t) in trees { refs[name] = segmentReferences(t) }
        var state: [String: Int] = [:]  // 1 = visiting, 2 = done
        var stack: [String] = []
        var cyclic: Set<String> = []
        func visit(_ n: String) {
            state[n] = 1
            stack.append(n)
            for (m, span) in refs[n] ?? [] where trees[m] != nil {
                if state[m] == 1 {
                    let cycle = Array(stack[stack.lastIndex(of: m)!...]) + [m]
                    cyclic.formUnion(cycle)
                    diags.append(SegmentDiagnostics.map(
                        SegmentError("segments refer to each other in a cycle: \(cycle.joined(separator: " -> "))", span),
                        sources[n]!))
                } else if state[m] == nil {
                    visit(m)
                }
            }
            stack.removeLast()
            state[n] = 2
            if cyclic.contains(n) {
                catalog.invalid.insert(n)
                return
            }
            let (expr, errs) = check(trees[n]!, sources[n]!, schema: schema, catalog: catalog, names: order)
            diags += errs
            if let expr {
                catalog.compiled[n] = expr
                catalog.sources[n] = sources[n]
            } else {
                catalog.invalid.insert(n)
            }
        }
        for n in order where state[n] == nil && trees[n] != nil { visit(n) }
        catalog.invalid.formUnion(cyclic)
        return (catalog, diags.sorted(by: diagnosticOrder))
    }

    /// Compiles one segment against the schema and the named segments in `catalog`; `journey` (a journey's
    /// branch condition) makes sent(), opened() and clicked() available.
    public static func compile(
        _ source: SegmentSource, schema: AttributeSchema, catalog: SegmentCatalog,
        journey: JourneyFunctionScope? = nil
    ) -> (CompiledSegment?, [Diagnostic]) {
        switch SegmentParser.parse(source.text) {
        case .failure(let e): return (nil, [SegmentDiagnostics.map(e, source)])
        case .success(let tree):
            let (expr, diags) = check(
                tree, source, schema: schema, catalog: catalog, names: catalog.names, journey: journey)
            guard let expr else { return (nil, diags) }
            var req = SnapshotRequirements()
            expr.collectRequirements(into: &req)
            return (CompiledSegment(source: source, requirements: req, expr: expr), diags)
        }
    }

    private static func check(
        _ tree: Syntax, _ source: SegmentSource, schema: AttributeSchema, catalog: SegmentCatalog,
        names: [String], journey: JourneyFunctionScope? = nil
    ) -> (TExpr?, [Diagnostic]) {
        var checker = SegmentChecker(schema: schema) { name in
            if let e = catalog.compiled[name] { return .found(e) }
            if catalog.invalid.contains(name) { return .missing("segment '\(name)' has errors and cannot be used") }
            return .missing("unknown segment '\(name)'")
        }
        checker.segmentNames = names + catalog.names
        checker.journey = journey
        let expr = checker.checkCondition(tree)
        var diags = checker.errors.map { SegmentDiagnostics.map($0, source) }
        if let expr, expr.depth > maxInlinedDepth {
            diags.append(SegmentDiagnostics.map(
                SegmentError("expression is nested too deeply once named segments are expanded", tree.span), source))
            return (nil, diags)
        }
        return (diags.isEmpty ? expr : nil, diags)
    }

    /// The `in_segment` calls of a tree, with the span of their argument.
    private static func segmentReferences(_ s: Syntax) -> [(String, SegSpan)] {
        var out: [(String, SegSpan)] = []
        func walk(_ s: Syntax) {
            switch s.kind {
            case .call(let name, _, let args):
                if name == "in_segment", args.count == 1 {
                    switch args[0].kind {
                    case .string(let v), .ident(let v): out.append((v, args[0].span))
                    default: break
                    }
                }
                args.forEach(walk)
            case .list(let xs), .and(let xs), .or(let xs): xs.forEach(walk)
            case .unary(_, let x): walk(x)
            case .binary(_, let a, let b):
                walk(a)
                walk(b)
            default: break
            }
        }
        walk(s)
        return out
    }

    private static func wholeSpan(_ text: String) -> SegSpan {
        let first = text.split(separator: "\n", omittingEmptySubsequences: false).first.map { $0.count } ?? 0
        return SegSpan(start: SegPos(line: 1, col: 1), end: SegPos(line: 1, col: first + 1))
    }
}

/// Orders diagnostics by file position, then message.
func diagnosticOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
    switch (a.location, b.location) {
    case (nil, nil): return a.message < b.message
    case (nil, _): return true
    case (_, nil): return false
    case (let x?, let y?): return x == y ? a.message < b.message : x < y
    }
}

/// Maps expression positions into file diagnostics through `SourceOrigin`.
enum SegmentDiagnostics {
    static func map(_ e: SegmentError, _ source: SegmentSource) -> Diagnostic {
        let o = source.origin
        let lines = source.text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let k = max(1, e.span.start.line)
        let exprLine = k <= lines.count ? String(lines[k - 1]) : ""
        let startCol = k == 1 ? o.column : o.continuationColumn
        let fileCol = startCol + e.span.start.col - 1
        let endCol = e.span.end.line == e.span.start.line ? e.span.end.col : exprLine.count + 1
        let length = max(1, endCol - e.span.start.col)
        let sourceLine = String(repeating: " ", count: max(0, startCol - 1)) + exprLine
        return Diagnostic(
            .error, at: SourceLocation(file: o.file, line: o.line + k - 1, column: fileCol), e.message,
            sourceLine: sourceLine, length: length, suggestion: e.suggestion)
    }
}
