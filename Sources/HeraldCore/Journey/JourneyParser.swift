import Yams

/// The journey reader: the top level of a journey file. Steps are read in JourneyStepsParser.swift.
extension CampaignParser {
    /// The top-level keys of a journey file.
    static let journeyKeys = [
        "id", "name", "status", "topic", "priority", "transactional", "audience", "trigger", "limits",
        "conversion",
        "entry", "exit_when", "steps",
    ]

    /// Campaign keys that have no meaning at a journey's top level, and why.
    static let campaignOnlyKeys: [(key: String, why: String)] = [
        ("message", "a file has either message: (a campaign) or steps: (a journey), not both"),
        ("send_time", "in a journey, send_time belongs to each message step"),
        ("experiment", "a journey has no experiment; use a split step for random paths"),
    ]

    /// The journey of a file whose top level has `steps:`; `text` is the file's content, for its version.
    func journey(_ root: Node, text: String) -> JourneyDefinition? {
        guard case .mapping(let whole) = root else { return nil }
        let refused = Set(Self.campaignOnlyKeys.map(\.key))
        for pair in whole {
            guard let key = pair.key.scalar?.string,
                let rule = Self.campaignOnlyKeys.first(where: { $0.key == key })
            else { continue }
            y.report("\(key): \(rule.why)", node: pair.key)
        }
        // The refused keys are reported once, above, not again as unknown keys.
        let kept = whole.filter { !refused.contains($0.key.scalar?.string ?? "") }.map { ($0.key, $0.value) }
        let top = Node.mapping(Node.Mapping(kept, whole.tag, whole.style, whole.mark))
        guard
            let m = y.map(
                top, "journey", known: Self.journeyKeys, required: ["id", "name", "audience", "trigger"])
        else { return nil }
        let id = y.name(m["id"], "id", pattern: "[a-z0-9][a-z0-9-]*", NameRules.isCampaignID)
        let name = y.string(m["name"], "name")
        let status =
            m["status"] == nil ? .active : y.choice(m["status"], "status", JourneyDefinition.Status.self)
        let topic = y.name(m["topic"], "topic", pattern: "[a-z0-9][a-z0-9_-]*", NameRules.isTopic)
        if let topic, let undeclared = config.undeclaredTopic(topic) {
            y.report("topic: \(undeclared.message)", node: m["topic"], suggestion: undeclared.suggestion)
        }
        let priority =
            m["priority"] == nil ? 0 : y.int(m["priority"], "priority", range: -1_000_000...1_000_000)
        let transactional = m["transactional"] == nil ? false : y.bool(m["transactional"], "transactional")
        let audience = self.audience(m["audience"])
        let trigger = self.trigger(m["trigger"])
        let limits = self.limits(m["limits"])
        let conversion = eventWindow(m["conversion"], "conversion").map {
            Campaign.Conversion(event: $0.event, within: $0.within)
        }
        let reEntry = self.reEntry(m["entry"])
        let exitWhen = self.exitWhen(m["exit_when"])
        let steps = self.steps(m["steps"], key: m.keyNode("steps"))
        guard let id, let name, let status, let priority, let transactional, let audience, let trigger,
            let limits,
            let reEntry, let exitWhen, let steps, !y.diagnostics.hasErrors
        else { return nil }
        var journey = JourneyDefinition(
            id: id, name: name, status: status, topic: topic, priority: priority,
            transactional: transactional,
            audience: audience, trigger: trigger, limits: limits, conversion: conversion, reEntry: reEntry,
            exitWhen: exitWhen, steps: steps, file: y.file, version: JourneyVersion(content: text))
        journey.source = text
        return journey
    }

    /// `entry: { re_entry: never | always | { after: D } }`; `never` when absent.
    func reEntry(_ node: Node?) -> JourneyDefinition.ReEntry? {
        guard let node else { return .never }
        guard let m = y.map(node, "entry", known: ["re_entry"]) else { return nil }
        guard let r = m["re_entry"] else { return .never }
        if case .mapping = r {
            guard let a = y.map(r, "entry.re_entry", known: ["after"], required: ["after"]),
                let after = y.duration(a["after"], "entry.re_entry.after")
            else { return nil }
            return .after(after)
        }
        let expected = "expected never, always or { after: 30d }"
        guard case .scalar(let s) = r else {
            y.report("entry.re_entry: \(expected), got \(r.described)", node: r)
            return nil
        }
        switch s.string {
        case "never": return .never
        case "always": return .always
        default:
            y.report(
                "entry.re_entry: \(expected), got \(r.described)", node: r,
                suggestion: NearMiss.didYouMean(s.string, among: ["never", "always"]))
            return nil
        }
    }

    /// `exit_when`: a list of `{ event: NAME }` and `{ segment: EXPR }`.
    func exitWhen(_ node: Node?) -> [JourneyDefinition.ExitCondition]? {
        var out: [JourneyDefinition.ExitCondition] = []
        var ok = true
        for (i, item) in y.list(node, "exit_when").enumerated() {
            let path = "exit_when[\(i)]"
            guard let m = y.map(item, path, known: ["event", "segment"]) else {
                ok = false
                continue
            }
            switch (m.has("event"), m.has("segment")) {
            case (true, false):
                if let e = eventName(m["event"], "\(path).event") {
                    out.append(.event(e))
                } else {
                    ok = false
                }
                if m["event"] == nil {
                    y.report("\(path).event: expected an event name", node: m.keyNode("event"))
                }
            case (false, true):
                if let s = segment(m["segment"], "\(path).segment") {
                    out.append(.segment(s))
                } else {
                    ok = false
                }
                if m["segment"] == nil {
                    y.report("\(path).segment: expected a segment expression", node: m.keyNode("segment"))
                }
            case (true, true):
                y.report("\(path): give either event or segment, not both", node: m.keyNode("segment"))
                ok = false
            case (false, false):
                y.report("\(path): give event: NAME or segment: EXPRESSION", node: item)
                ok = false
            }
        }
        return ok ? out : nil
    }
}
