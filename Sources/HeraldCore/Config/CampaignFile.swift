import Foundation
import Yams

/// Reads one campaign file (docs/campaigns.md) against a config: every problem found is reported, located.
public enum CampaignFile {
    /// Reads and validates the campaign file at `path`; its real path must stay in the folder it is listed in.
    /// A journey file is an error here: read it with `loadAny`.
    public static func load(path: String, config: HeraldConfig) -> (Campaign?, [Diagnostic]) {
        campaignOnly(loadAny(path: path, config: config), file: path)
    }

    /// Reads and validates the campaign or journey file at `path`; its real path must stay in its folder.
    public static func loadAny(path: String, config: HeraldConfig) -> (CampaignFileContent?, [Diagnostic]) {
        let folder = (path as NSString).deletingLastPathComponent
        let read = ConfigFileReader.read(
            path, what: "campaign file", limit: ConfigFileReader.maxYAMLBytes, inside: folder.isEmpty ? "." : folder)
        switch read {
        case .success(let text): return parseAny(yaml: text, file: path, config: config)
        case .failure(let problem):
            let missing = Diagnostic(at: nil, "cannot read campaign file '\(path)'")
            return (nil, [ConfigFileReader.diagnostic(problem) ?? missing])
        }
    }

    /// Validates campaign text; `file` names it in diagnostics. A journey is an error here: use `parseAny`.
    public static func parse(yaml: String, file: String, config: HeraldConfig) -> (Campaign?, [Diagnostic]) {
        campaignOnly(parseAny(yaml: yaml, file: file, config: config), file: file)
    }

    /// Validates campaign or journey text (a journey has `steps:` instead of `message:`); `file` names it.
    public static func parseAny(yaml: String, file: String, config: HeraldConfig)
        -> (CampaignFileContent?, [Diagnostic])
    {
        let y = YAMLFile(file: file, text: yaml)
        guard let root = y.compose(yaml) else {
            if !y.diagnostics.hasErrors { y.report("the campaign file is empty", at: y.location(nil)) }
            return (nil, y.sorted)
        }
        let parser = CampaignParser(y: y, config: config)
        if CampaignParser.isJourney(root) {
            let journey = parser.journey(root, text: yaml)
            return (y.diagnostics.hasErrors ? nil : journey.map { .journey($0) }, y.sorted)
        }
        let campaign = parser.campaign(root)
        return (y.diagnostics.hasErrors ? nil : campaign.map { .campaign($0) }, y.sorted)
    }
}

/// The campaign reader; message bodies are in CampaignMessageParser.swift.
struct CampaignParser {
    let y: YAMLFile
    let config: HeraldConfig

    static let topKeys = [
        "id", "name", "status", "topic", "priority", "transactional", "audience", "trigger", "send_time", "limits",
        "experiment", "conversion", "message", "rollout",
    ]

    func campaign(_ root: Node) -> Campaign? {
        guard y.isDocument(root, of: "a campaign file", known: Self.topKeys),
            let m = y.map(
                root, "campaign", known: Self.topKeys, required: ["id", "name", "audience", "trigger", "message"])
        else { return nil }
        let id = y.name(m["id"], "id", pattern: "[a-z0-9][a-z0-9-]*", NameRules.isCampaignID)
        let name = y.string(m["name"], "name")
        let status = m["status"] == nil ? .active : y.choice(m["status"], "status", Campaign.Status.self)
        let topic = y.name(m["topic"], "topic", pattern: "[a-z0-9][a-z0-9_-]*", NameRules.isTopic)
        if let topic, let undeclared = config.undeclaredTopic(topic) {
            y.report("topic: \(undeclared.message)", node: m["topic"], suggestion: undeclared.suggestion)
        }
        let priority = m["priority"] == nil ? 0 : y.int(m["priority"], "priority", range: -1_000_000...1_000_000)
        let transactional = m["transactional"] == nil ? false : y.bool(m["transactional"], "transactional")
        let audience = self.audience(m["audience"])
        let trigger = self.trigger(m["trigger"])
        let sendTime = self.sendTime(m["send_time"])
        let limits = self.limits(m["limits"])
        let message = self.message(m["message"], "message", base: nil)
        let experiment = self.experiment(m["experiment"], base: message, trigger: trigger)
        let rollout = m["rollout"] == nil ? nil : self.rollout(m["rollout"])
        if rollout != nil, experiment?.winner != nil, case .test = experiment?.winner {
            y.report("rollout: a staged release and a winner test on one campaign are not supported yet; "
                     + "release the winner with a rollout in a second campaign", node: m["rollout"])
        }
        if let winner = experiment?.winner, winner.metric == .conversion, m["conversion"] == nil {
            y.report("experiment.winner.metric: conversion needs the campaign's 'conversion' goal", node: m["experiment"])
        }
        let conversion = eventWindow(m["conversion"], "conversion").map {
            Campaign.Conversion(event: $0.event, within: $0.within)
        }
        checkDateAudience(m, audience: audience, trigger: trigger, sendTime: sendTime)
        guard let id, let name, let status, let priority, let transactional, let audience, let trigger,
            let sendTime, let limits, let message, !y.diagnostics.hasErrors
        else { return nil }
        var campaign = Campaign(
            id: id, name: name, status: status, topic: topic, priority: priority, transactional: transactional,
            audience: audience, trigger: trigger, sendTime: sendTime, limits: limits,
            experiment: m["experiment"] == nil ? nil : experiment, conversion: conversion, message: message,
            file: y.file)
        campaign.rollout = rollout
        return campaign
    }

    func segment(_ node: Node?, _ field: String) -> CompiledSegment? {
        guard let node, let text = y.string(node, field) else { return nil }
        let source = SegmentSource(text: text, origin: y.origin(of: node))
        let (compiled, diagnostics) = SegmentCompiler.compile(source, schema: config.attributes, catalog: config.catalog)
        y.absorb(diagnostics)
        return compiled
    }

    func audience(_ node: Node?) -> Campaign.Audience? {
        guard let m = y.map(node, "audience", known: ["segment", "exclude"], required: ["segment"]) else { return nil }
        let segment = self.segment(m["segment"], "audience.segment")
        let exclude = self.segment(m["exclude"], "audience.exclude")
        guard let segment else { return nil }
        return Campaign.Audience(segment: segment, exclude: exclude)
    }

    func eventName(_ node: Node?, _ field: String) -> String? {
        y.name(node, field, pattern: "letters, digits and _ . : -", NameRules.isEventName)
    }

    /// A `{event, within}` mapping.
    func eventWindow(_ node: Node?, _ path: String) -> (event: String, within: Int64)? {
        guard let m = y.map(node, path, known: ["event", "within"], required: ["event", "within"]) else { return nil }
        guard let e = eventName(m["event"], "\(path).event"), let w = y.duration(m["within"], "\(path).within")
        else { return nil }
        return (e, w)
    }

    func trigger(_ node: Node?) -> Campaign.Trigger? {
        let kinds = ["schedule", "cron", "event", "entered_segment", "api"]
        let known = kinds + ["tz", "delay", "cancel_if"]
        guard let m = y.map(node, "trigger", known: known) else { return nil }
        let present = kinds.filter { m.has($0) }
        guard let kind = present.first else {
            y.report("trigger: give exactly one of \(kinds.joined(separator: ", "))", node: node)
            return nil
        }
        if present.count > 1 {
            y.report(
                "trigger: give exactly one of \(kinds.joined(separator: ", ")); found \(present.joined(separator: " and "))",
                node: m.keyNode(present[1]))
            return nil
        }
        for (key, owner) in [("tz", "cron"), ("delay", "event"), ("cancel_if", "event")] where m.has(key) && kind != owner {
            y.report("trigger.\(key) only applies to '\(owner)' triggers", node: m.keyNode(key))
        }
        switch kind {
        case "schedule":
            guard let n = m["schedule"], let text = y.string(n, "trigger.schedule") else { return nil }
            switch TimestampParser.parseISO(text) {
            case .success(let ms): return .schedule(at: ms / 1000)
            case .failure(let f):
                y.report(
                    "trigger.schedule: expected an ISO-8601 time with an offset such as 2026-12-01T09:00:00Z, got '\(text)' (\(f.reason))",
                    node: n)
                return nil
            }
        case "cron":
            let zone = m.has("tz") ? y.zone(m["tz"], "trigger.tz") : config.policy.defaultTimezone
            guard let n = m["cron"], let text = y.string(n, "trigger.cron") else { return nil }
            switch CronExpression.parse(text) {
            case .success(let cron): return zone.map { .cron(cron, timeZone: $0) }
            case .failure(let f):
                let message = "trigger.cron: invalid cron expression '\(text)': \(f.reason)"
                if let offset = f.offset, case .scalar(let s) = n, s.style != .literal, s.style != .folded {
                    let at = YAMLFile.locate(line0: 0, column0: offset, in: y.origin(of: n))
                    y.report(message, at: at, length: text.dropFirst(offset).prefix { $0 != " " }.count)
                } else {
                    y.report(message, node: n)
                }
                return nil
            }
        case "event":
            let name = eventName(m["event"], "trigger.event")
            let delay = m.has("delay") ? y.duration(m["delay"], "trigger.delay") : 0
            let cancel = eventWindow(m["cancel_if"], "trigger.cancel_if").map {
                Campaign.CancelCondition(event: $0.event, within: $0.within)
            }
            if m["event"] == nil { y.report("trigger.event: expected an event name", node: m.keyNode("event")) }
            guard let name, let delay else { return nil }
            return .event(name: name, delay: delay, cancelIf: cancel)
        default:
            guard let v = y.bool(m[kind], "trigger.\(kind)") else {
                if m[kind] == nil { y.report("trigger.\(kind): expected true", node: m.keyNode(kind)) }
                return nil
            }
            guard v else {
                y.report("trigger.\(kind): only 'true' is meaningful; remove the key instead", node: m[kind])
                return nil
            }
            return kind == "api" ? .api : .enteredSegment
        }
    }

    func sendTime(_ node: Node?) -> Campaign.SendTime? {
        var st = Campaign.SendTime(strategy: .immediate, within: 86_400, localTime: nil)
        guard let node else { return st }
        guard let m = y.map(node, "send_time", known: ["strategy", "within", "local_time"], required: ["strategy"])
        else { return nil }
        guard let strategy = y.choice(m["strategy"], "send_time.strategy", Campaign.SendStrategy.self) else {
            return nil
        }
        st.strategy = strategy
        if m["within"] != nil {
            guard let w = y.duration(m["within"], "send_time.within") else { return nil }
            st.within = w
        }
        if m["local_time"] != nil {
            guard let t = y.clock(m["local_time"], "send_time.local_time") else { return nil }
            if strategy != .localTime {
                y.report("send_time.local_time only applies to strategy local_time", node: m.keyNode("local_time"))
            }
            st.localTime = t
        } else if strategy == .localTime {
            y.report("send_time: strategy local_time needs 'local_time' such as \"10:00\"", node: node)
            return nil
        }
        return st
    }

    func limits(_ node: Node?) -> Campaign.Limits? {
        guard let node else { return Campaign.Limits() }
        guard let m = y.map(node, "limits", known: ["per_user", "rate"]) else { return nil }
        var limits = Campaign.Limits()
        if let p = y.map(m["per_user"], "limits.per_user", known: ["max", "per"], required: ["max", "per"]),
            let max = y.int(p["max"], "limits.per_user.max", range: 1...1_000_000),
            let per = y.duration(p["per"], "limits.per_user.per")
        {
            limits.perUser = Campaign.PerUserLimit(max: max, per: per)
        }
        limits.rate = y.rate(m["rate"], "limits.rate")
        return limits
    }
}
