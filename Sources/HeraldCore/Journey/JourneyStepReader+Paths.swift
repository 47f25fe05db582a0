import Yams

/// The steps that choose a path: `branch` and `split`.
extension StepReader {
    func branch() -> JourneyStep.Kind? {
        let field = "\(path).branch"
        guard let node = m["branch"] else {
            y.report(
                "\(field): expected a list of { if: EXPR, goto: STEP } ending with { else: STEP }",
                node: m.keyNode("branch"))
            return nil
        }
        guard case .sequence(let seq) = node, !seq.isEmpty else {
            y.report(
                "\(field): expected a list of { if: EXPR, goto: STEP } ending with { else: STEP }, got \(node.described)",
                node: node)
            return nil
        }
        let journeyScope = JourneyFunctionScope(steps: scope, position: d.index)
        var arms: [JourneyBranch.Arm] = []
        var otherwise: JourneyTarget?
        var ok = true
        var (sawIf, sawElse) = (false, false)
        for (j, armNode) in seq.enumerated() {
            let armPath = "\(field)[\(j)]"
            guard let a = y.map(armNode, armPath, known: ["if", "goto", "else"]) else {
                ok = false
                continue
            }
            sawIf = sawIf || a.has("if")
            sawElse = sawElse || a.has("else")
            if a.has("else") {
                if a.has("if") || a.has("goto") {
                    y.report(
                        "\(armPath): an else arm has no if or goto",
                        node: a.keyNode(a.has("if") ? "if" : "goto"))
                    ok = false
                }
                if j != seq.count - 1 {
                    y.report(
                        "\(armPath).else: else must be the last arm of a branch", node: a.keyNode("else"))
                    ok = false
                }
                if let t = target(a, "else", "\(armPath).else", default: nil) {
                    otherwise = t
                } else {
                    ok = false
                }
                continue
            }
            guard a.has("if") else {
                y.report("\(armPath): expected { if: EXPR, goto: STEP } or { else: STEP }", node: armNode)
                ok = false
                continue
            }
            var condition: CompiledSegment?
            if let ifNode = a["if"], let text = y.string(ifNode, "\(armPath).if") {
                let source = SegmentSource(text: text, origin: y.origin(of: ifNode))
                let (compiled, diags) = SegmentCompiler.compile(
                    source, schema: p.config.attributes, catalog: p.config.catalog, journey: journeyScope)
                y.absorb(diags)
                condition = compiled
            } else if a["if"] == nil {
                y.report("\(armPath).if: expected a condition", node: a.keyNode("if"))
            }
            var goto: JourneyTarget?
            if a.has("goto") {
                goto = target(a, "goto", "\(armPath).goto", default: nil)
            } else {
                y.report("\(armPath): missing required key 'goto'", node: armNode)
            }
            guard let condition, let goto else {
                ok = false
                continue
            }
            arms.append(JourneyBranch.Arm(condition: condition, goto: goto))
        }
        if !sawElse {
            y.report(
                "\(field): a branch needs a last arm { else: STEP } for users no condition matches",
                node: node)
            ok = false
        } else if !sawIf {
            y.report(
                "\(field): a branch needs at least one { if: EXPR, goto: STEP } arm before else", node: node)
            ok = false
        }
        guard ok, let otherwise else { return nil }
        return .branch(JourneyBranch(arms: arms, otherwise: otherwise))
    }

    func split() -> JourneyStep.Kind? {
        let field = "\(path).split"
        guard let node = m["split"] else {
            y.report("\(field): expected a list of { percent: N, goto: STEP }", node: m.keyNode("split"))
            return nil
        }
        guard case .sequence(let seq) = node, !seq.isEmpty else {
            y.report(
                "\(field): expected a list of { percent: N, goto: STEP }, got \(node.described)", node: node)
            return nil
        }
        var arms: [JourneySplit.Arm] = []
        var ok = true
        var sum = 0.0
        for (j, armNode) in seq.enumerated() {
            let armPath = "\(field)[\(j)]"
            guard let a = y.map(armNode, armPath, known: ["percent", "goto"], required: ["percent", "goto"])
            else {
                ok = false
                continue
            }
            let percent = self.percent(a["percent"], "\(armPath).percent")
            let goto = a["goto"] == nil ? nil : target(a, "goto", "\(armPath).goto", default: nil)
            guard let percent, let goto else {
                ok = false
                continue
            }
            sum += percent
            arms.append(JourneySplit.Arm(percent: percent, goto: goto))
        }
        if ok && abs(sum - 100) > 1e-9 {
            let shown = sum == sum.rounded() ? String(Int(sum)) : String(sum)
            y.report("\(field): percentages sum to \(shown), expected 100", node: node)
            ok = false
        }
        return ok ? .split(JourneySplit(arms: arms)) : nil
    }

    /// A split share: `N` or `N%`, greater than 0 and at most 100.
    func percent(_ node: Node?, _ field: String) -> Double? {
        guard let node else { return nil }
        if case .scalar(let s) = node {
            let text = s.string.hasSuffix("%") ? String(s.string.dropLast()) : s.string
            if let v = Double(text), v.isFinite, v > 0, v <= 100, text.first?.isNumber == true { return v }
        }
        y.report(
            "\(field): expected a percentage greater than 0 and at most 100 such as 10, got \(node.described)",
            node: node)
        return nil
    }
}
