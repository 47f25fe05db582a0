import Yams

/// One step as first read: its id and kind, before the kind's own keys are read.
struct StepDraft {
    let index: Int
    let node: Node
    let map: YMap
    /// The id when it is valid and not a duplicate.
    let id: String?
    let idNode: Node?
    /// The kind key (`message`, `wait`, …) when exactly one is given.
    let kind: String?

    /// `steps[i]`, the prefix of this step's diagnostics.
    var path: String { "steps[\(index)]" }
}

/// A `goto`, `next`, `on_event`, `on_timeout` or `else` written in a step: checked once every id is known.
struct StepEdge {
    /// The index of the step it is written in.
    let from: Int
    /// The target as written: a step id or `exit`.
    let name: String
    /// Where it is written.
    let node: Node
    /// Its path, e.g. `steps[4].branch[1].else`.
    let field: String
}

/// The journey's steps: ids and kinds first, then each kind's keys, then the graph.
extension CampaignParser {
    static let stepKinds = ["message", "wait", "wait_for", "branch", "split"]
    /// Each key a step may have besides `id` and its kind, and the kinds it applies to.
    static let stepOptions: [(key: String, kinds: [String])] = [
        ("send_time", ["message"]), ("on_capped", ["message"]), ("next", ["message", "wait"]),
        ("on_event", ["wait_for"]), ("on_timeout", ["wait_for"]),
    ]
    static let stepKeys = ["id"] + stepKinds + stepOptions.map(\.key)

    /// `steps:`; nil after reporting when any step is invalid.
    func steps(_ node: Node?, key: Node?) -> [JourneyStep]? {
        guard let node else {
            y.report("steps: a journey needs at least one step", node: key)
            return nil
        }
        guard case .sequence(let seq) = node else {
            y.report("steps: expected a list of steps, got \(node.described)", node: node)
            return nil
        }
        guard !seq.isEmpty else {
            y.report("steps: a journey needs at least one step", node: node)
            return nil
        }
        let drafts = draftSteps(Array(seq))
        let scope = drafts.map { JourneyFunctionScope.Step(id: $0.id ?? "", kind: $0.kind ?? "") }
        var edges: [StepEdge] = []
        var steps: [JourneyStep] = []
        for d in drafts {
            guard let kind = d.kind else { continue }
            let following: JourneyTarget =
                d.index + 1 < drafts.count ? .step(drafts[d.index + 1].id ?? "") : .exit
            let reader = StepReader(p: self, d: d, following: following, scope: scope)
            let parsed = reader.read(kind)
            edges += reader.edges
            if let parsed, let id = d.id, let idNode = d.idNode {
                steps.append(JourneyStep(id: id, kind: parsed, location: y.location(idNode.mark)))
            }
        }
        let complete = steps.count == drafts.count
        checkGraph(drafts, edges: edges, defaultsComplete: drafts.allSatisfy { $0.kind != nil })
        return complete ? steps : nil
    }

    /// Reads each step's id and kind, reporting bad, reserved and duplicate ids, and missing or doubled kinds.
    func draftSteps(_ nodes: [Node]) -> [StepDraft] {
        var seen: [String: Int] = [:]
        var drafts: [StepDraft] = []
        for (i, n) in nodes.enumerated() {
            let path = "steps[\(i)]"
            guard let m = y.map(n, path, known: Self.stepKeys, required: ["id"]) else {
                drafts.append(
                    StepDraft(
                        index: i, node: n, map: YMap(node: n, entries: []), id: nil, idNode: nil, kind: nil))
                continue
            }
            var id = y.name(m["id"], "\(path).id", pattern: "[a-z0-9][a-z0-9-]*", NameRules.isCampaignID)
            if id == "exit" {
                y.report("\(path).id: 'exit' is reserved: as a target it ends the journey", node: m["id"])
                id = nil
            }
            if let given = id, let idNode = m["id"] {
                if let first = seen[given] {
                    y.report(
                        "\(path).id: duplicate step id '\(given)' (first used at line \(first))", node: idNode
                    )
                    id = nil
                } else {
                    seen[given] = idNode.mark?.line ?? 0
                }
            }
            let kinds = Self.stepKinds.filter { m.has($0) }
            var kind: String?
            switch kinds.count {
            case 0:
                y.report("\(path): a step needs one of \(Self.stepKinds.joined(separator: ", "))", node: n)
            case 1:
                kind = kinds[0]
            default:
                y.report(
                    "\(path): a step has exactly one of \(Self.stepKinds.joined(separator: ", ")); found "
                        + kinds.joined(separator: " and "), node: m.keyNode(kinds[1]))
            }
            if let kind {
                for (key, owners) in Self.stepOptions where m.has(key) && !owners.contains(kind) {
                    let list = owners.map { "\($0) steps" }.joined(separator: " and ")
                    y.report(
                        "\(path).\(key) only applies to \(list), not to a \(kind) step", node: m.keyNode(key))
                }
            }
            drafts.append(StepDraft(index: i, node: n, map: m, id: id, idNode: m["id"], kind: kind))
        }
        return drafts
    }

    /// Targets must name a known step or `exit` and lead forward (so journeys cannot loop); every step must be
    /// reachable from the first. Reachability is only judged when every edge is known.
    func checkGraph(_ drafts: [StepDraft], edges: [StepEdge], defaultsComplete: Bool) {
        var index: [String: Int] = [:]
        for d in drafts { if let id = d.id { index[id] = d.index } }
        let ids = drafts.compactMap(\.id)
        var allKnown = defaultsComplete && ids.count == drafts.count
        var successors: [Int: [Int]] = [:]
        for e in edges {
            if e.name == "exit" { continue }
            guard let to = index[e.name] else {
                let list = (ids + ["exit"]).joined(separator: ", ")
                y.report(
                    "\(e.field): unknown step '\(Diagnostic.excerpt(e.name))'; steps: \(list)", node: e.node,
                    suggestion: NearMiss.didYouMean(e.name, among: ids + ["exit"]))
                allKnown = false
                continue
            }
            successors[e.from, default: []].append(to)
            let target = drafts[to]
            if to == e.from {
                y.report("\(e.field): step '\(e.name)' leads to itself; a journey cannot loop", node: e.node)
            } else if to < e.from {
                let line = target.idNode?.mark?.line ?? 0
                y.report(
                    "\(e.field): '\(e.name)' points back to an earlier step (line \(line)); steps can only lead "
                        + "forward, so a journey cannot loop", node: e.node)
            }
        }
        guard allKnown else { return }
        // Defaults (the following step) are edges too.
        for d in drafts where d.index + 1 < drafts.count {
            if Self.defaultsToFollowing(d) { successors[d.index, default: []].append(d.index + 1) }
        }
        var reached: Set<Int> = [0]
        var stack = [0]
        while let i = stack.popLast() {
            for j in successors[i] ?? [] where reached.insert(j).inserted { stack.append(j) }
        }
        for d in drafts where !reached.contains(d.index) {
            y.report(
                "\(d.path): step '\(d.id ?? "")' is unreachable: no step leads to it",
                node: d.idNode ?? d.node)
        }
    }

    /// True when some outcome of the step goes to the following step because no target is written for it.
    static func defaultsToFollowing(_ d: StepDraft) -> Bool {
        switch d.kind {
        case "message", "wait": !d.map.has("next")
        case "wait_for": !d.map.has("on_event") || !d.map.has("on_timeout")
        default: false
        }
    }
}
