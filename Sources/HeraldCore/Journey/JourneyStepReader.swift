import Yams

/// Reads the kind-specific keys of one step; the targets it meets are collected in `edges` for the graph check.
final class StepReader {
    let p: CampaignParser
    let d: StepDraft
    /// Where an outcome without a written target goes: the following step, or exit after the last.
    let following: JourneyTarget
    /// Every step's id and kind, for sent(), opened() and clicked() in branch conditions.
    let scope: [JourneyFunctionScope.Step]
    private(set) var edges: [StepEdge] = []

    /// The longest wait (and wait_for timeout), seconds: 365 days.
    static let maxWait: Int64 = 365 * 86_400

    init(p: CampaignParser, d: StepDraft, following: JourneyTarget, scope: [JourneyFunctionScope.Step]) {
        self.p = p
        self.d = d
        self.following = following
        self.scope = scope
    }

    var y: YAMLFile { p.y }
    var m: YMap { d.map }
    var path: String { d.path }

    /// The step's kind, or nil after reporting.
    func read(_ kind: String) -> JourneyStep.Kind? {
        switch kind {
        case "message": message()
        case "wait": wait()
        case "wait_for": waitFor()
        case "branch": branch()
        default: split()
        }
    }

    /// A target written at `key` of `map` (`next`, `goto`, …); `following` when the key is absent.
    func target(_ map: YMap, _ key: String, _ field: String, default fallback: JourneyTarget?)
        -> JourneyTarget?
    {
        guard map.has(key) else { return fallback }
        guard let node = map[key] else {
            y.report("\(field): expected a step id or exit", node: map.keyNode(key))
            return nil
        }
        guard case .scalar(let s) = node, !s.string.isEmpty else {
            y.report("\(field): expected a step id or exit, got \(node.described)", node: node)
            return nil
        }
        edges.append(StepEdge(from: d.index, name: s.string, node: node, field: field))
        return s.string == "exit" ? .exit : .step(s.string)
    }

    func message() -> JourneyStep.Kind? {
        let message = p.message(m["message"], "\(path).message", base: nil)
        if m["message"] == nil {
            y.report("\(path).message: expected a mapping with channel", node: m.keyNode("message"))
        }
        let sendTime = p.sendTime(m["send_time"])
        let onCapped =
            m["on_capped"] == nil
            ? .defer : y.choice(m["on_capped"], "\(path).on_capped", JourneyOnCapped.self)
        let next = target(m, "next", "\(path).next", default: following)
        guard let message, let sendTime, let onCapped, let next else { return nil }
        return .message(
            JourneyMessageStep(message: message, sendTime: sendTime, onCapped: onCapped, next: next))
    }

    /// A wait length: a duration greater than 0 and at most 365 days.
    func waitDuration(_ node: Node?, _ field: String, what: String) -> Int64? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = DurationSpec.seconds(s.string) else {
            y.report("\(field): expected a duration such as 2d, got \(node.described)", node: node)
            return nil
        }
        guard v > 0 else {
            y.report("\(field): \(what) must be longer than 0", node: node)
            return nil
        }
        guard v <= Self.maxWait else {
            y.report("\(field): \(s.string) is longer than the longest \(what), 365d", node: node)
            return nil
        }
        return v
    }

    func wait() -> JourneyStep.Kind? {
        let field = "\(path).wait"
        let next = target(m, "next", "\(path).next", default: following)
        guard let node = m["wait"] else {
            y.report(
                "\(field): expected a duration such as 1d, or { until: \"09:00\" }", node: m.keyNode("wait"))
            return nil
        }
        let length: JourneyWait.Length
        if case .mapping = node {
            guard let w = y.map(node, field, known: ["until", "days"], required: ["until"]) else {
                return nil
            }
            let until = y.clock(w["until"], "\(field).until")
            let days = weekdays(w, field)
            guard let until, let days else { return nil }
            length = .until(until, days: days)
        } else {
            guard let d = waitDuration(node, field, what: "wait") else { return nil }
            length = .duration(d)
        }
        guard let next else { return nil }
        return .wait(JourneyWait(length: length, next: next))
    }

    /// `days: [mon, tue, …]`; every day when absent.
    func weekdays(_ w: YMap, _ field: String) -> Set<Weekday>? {
        guard w.has("days") else { return Set(Weekday.allCases) }
        let names = Weekday.allCases.map(\.name)
        var days: Set<Weekday> = []
        var ok = true
        let items = y.list(w["days"], "\(field).days")
        for item in items {
            guard let s = y.string(item, "\(field).days") else {
                ok = false
                continue
            }
            guard let day = Weekday(name: s.lowercased()) else {
                y.report(
                    "\(field).days: expected day names \(names.joined(separator: ", ")), got '\(Diagnostic.excerpt(s))'",
                    node: item, suggestion: NearMiss.didYouMean(s, among: names))
                ok = false
                continue
            }
            days.insert(day)
        }
        if items.isEmpty && ok {
            y.report(
                "\(field).days: expected at least one day such as [mon, tue]",
                node: w["days"] ?? w.keyNode("days"))
            ok = false
        }
        return ok ? days : nil
    }

    func waitFor() -> JourneyStep.Kind? {
        let field = "\(path).wait_for"
        let onEvent = target(m, "on_event", "\(path).on_event", default: following)
        let onTimeout = target(m, "on_timeout", "\(path).on_timeout", default: following)
        guard let w = y.map(m["wait_for"], field, known: ["event", "within", "where"], required: ["event"])
        else {
            if m["wait_for"] == nil {
                y.report("\(field): expected a mapping with event and within", node: m.keyNode("wait_for"))
            }
            return nil
        }
        let event = p.eventName(w["event"], "\(field).event")
        var within: Int64?
        if w["within"] == nil {
            y.report(
                "\(field): missing required key 'within' (how long to wait for the event before on_timeout)",
                node: w.keyNode("within") ?? w.node)
        } else {
            within = waitDuration(w["within"], "\(field).within", what: "wait")
        }
        var filter: EventPropertyFilter?
        var filterOK = true
        if let n = w["where"] {
            filterOK = false
            if let text = y.string(n, "\(field).where") {
                let (f, diags) = EventPropertyFilter.compile(
                    SegmentSource(text: text, origin: y.origin(of: n)))
                y.absorb(diags)
                filter = f
                filterOK = f != nil
            }
        }
        guard let event, let within, filterOK, let onEvent, let onTimeout else { return nil }
        return .waitFor(
            JourneyWaitFor(
                event: event, within: within, filter: filter, onEvent: onEvent, onTimeout: onTimeout))
    }
}
