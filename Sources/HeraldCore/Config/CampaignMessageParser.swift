import Foundation
import Yams

/// A message as written, before required bodies are checked; variant overrides are drafts laid over the base.
struct MessageDraft {
    var channel: ChannelKind?
    var fallback: [ChannelKind]?
    var subject: MessageTemplate?
    var text: MessageTemplate?
    var html: MessageTemplate?
    var sms: MessageTemplate?
    var endpoint: String?
    var body: Campaign.BodyValue?
    var push: Campaign.PushBody?

    init() {}

    init(_ m: Campaign.Message) {
        channel = m.channel
        fallback = m.fallback
        subject = m.email?.subject
        text = m.email?.text
        html = m.email?.html
        sms = m.sms
        endpoint = m.webhook?.endpoint
        body = m.webhook?.body
        push = m.push
    }

    /// `self` with every field that `o` sets replaced.
    func overlaid(_ o: MessageDraft) -> MessageDraft {
        var r = self
        r.channel = o.channel ?? channel
        r.fallback = o.fallback ?? fallback
        r.subject = o.subject ?? subject
        r.text = o.text ?? text
        r.html = o.html ?? html
        r.sms = o.sms ?? sms
        r.endpoint = o.endpoint ?? endpoint
        r.body = o.body ?? body
        r.push = o.push.map { push?.overlaid($0) ?? $0 } ?? push
        return r
    }
}

extension CampaignParser {
    /// The campaign message (`base == nil`, `override == false`) or a variant's override laid over `base`.
    func message(_ node: Node?, _ path: String, base: Campaign.Message?, override: Bool = false) -> Campaign.Message? {
        let known = ["channel", "fallback", "email", "sms", "webhook", "push"]
        let errorsBefore = y.diagnostics.count
        guard let m = y.map(node, path, known: known, required: override ? [] : ["channel"]) else { return nil }
        var d = MessageDraft()
        d.channel = y.choice(m["channel"], "\(path).channel", ChannelKind.self)
        if m["fallback"] != nil {
            d.fallback = y.list(m["fallback"], "\(path).fallback").compactMap {
                y.choice($0, "\(path).fallback", ChannelKind.self)
            }
        }
        if let e = y.map(m["email"], "\(path).email", known: ["subject", "text", "html"]) {
            d.subject = template(e["subject"], "\(path).email.subject")
            d.text = template(e["text"], "\(path).email.text")
            d.html = template(e["html"], "\(path).email.html")
        }
        if let s = y.map(m["sms"], "\(path).sms", known: ["text"], required: override ? [] : ["text"]) {
            d.sms = template(s["text"], "\(path).sms.text")
        }
        if let w = y.map(m["webhook"], "\(path).webhook", known: ["endpoint", "body"]) {
            if let n = w["endpoint"], let name = y.string(n, "\(path).webhook.endpoint") {
                if config.channels.webhookEndpoints[name] == nil {
                    let names = config.channels.webhookEndpoints.keys.sorted()
                    let known = names.isEmpty ? "none are configured" : "configured: \(names.joined(separator: ", "))"
                    y.report(
                        "\(path).webhook.endpoint: unknown endpoint '\(name)' (\(known) in channels.webhook.endpoints)",
                        node: n, suggestion: NearMiss.didYouMean(name, among: names))
                } else {
                    d.endpoint = name
                }
            }
            if let b = w["body"] {
                if case .mapping = b {
                    d.body = bodyValue(b, "\(path).webhook.body")
                } else {
                    y.report("\(path).webhook.body: expected a mapping (the JSON object to send), got \(b.described)", node: b)
                }
            }
        }
        if m["push"] != nil { d.push = pushBody(m["push"], "\(path).push") }
        if override && base == nil { return nil }
        let full = base.map { MessageDraft($0).overlaid(d) } ?? d
        // A message with errors of its own is not also reported for the bodies those errors left out.
        guard y.diagnostics.count == errorsBefore else { return nil }
        return finish(full, path, node: m.node)
    }

    /// Checks that the channel and each fallback have a body.
    func finish(_ d: MessageDraft, _ path: String, node: Node) -> Campaign.Message? {
        guard let channel = d.channel else { return nil }
        let fallback = d.fallback ?? []
        var ok = true
        var seen: Set<ChannelKind> = [channel]
        for f in fallback where !seen.insert(f).inserted {
            y.report("\(path).fallback: '\(f.rawValue)' is already the channel or listed earlier", node: node)
            ok = false
        }
        var email: Campaign.EmailBody?
        if let subject = d.subject, d.text != nil || d.html != nil {
            email = Campaign.EmailBody(subject: subject, text: d.text, html: d.html)
        }
        let webhook = d.endpoint.flatMap { e in d.body.map { Campaign.WebhookBody(endpoint: e, body: $0) } }
        for (i, ch) in ([channel] + fallback).enumerated() {
            let role = i == 0 ? "channel" : "fallback channel"
            switch ch {
            case .email where email == nil:
                y.report("\(path): \(role) email needs email.subject and email.text or email.html", node: node)
                ok = false
            case .sms where d.sms == nil:
                y.report("\(path): \(role) sms needs sms.text", node: node)
                ok = false
            case .webhook where webhook == nil:
                y.report("\(path): \(role) webhook needs webhook.endpoint and webhook.body", node: node)
                ok = false
            case .push where !(d.push?.isComplete ?? false):
                y.report("\(path): \(role) push needs push.title, push.body or push.data", node: node)
                ok = false
            default: break
            }
        }
        guard ok else { return nil }
        return Campaign.Message(channel: channel, fallback: fallback, email: email, sms: d.sms, webhook: webhook, push: d.push)
    }

    /// A webhook body: scalars stay typed when plain, strings become templates.
    func bodyValue(_ node: Node, _ path: String) -> Campaign.BodyValue? {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any {
                if node.isNullScalar { return .null }
                if ["true", "false"].contains(s.string) { return .bool(s.string == "true") }
                if let n = Double(s.string), s.string.first.map({ $0.isNumber || $0 == "-" }) == true {
                    return .number(n)
                }
            }
            return template(node, path).map { .template($0) }
        case .sequence(let seq):
            return .list(seq.enumerated().compactMap { bodyValue($1, "\(path)[\($0)]") })
        case .mapping(let map):
            return .object(
                map.compactMap { k, v in
                    guard let key = k.scalar?.string else { return nil }
                    return bodyValue(v, "\(path).\(key)").map { Campaign.BodyField(key: key, value: $0) }
                })
        case .alias:
            y.report("\(path): aliases are not supported", node: node)
            return nil
        }
    }

    /// True when an inline value is really a template file name.
    static func isFileName(_ s: String) -> Bool {
        [".txt", ".html", ".mustache"].contains { s.hasSuffix($0) }
            && !s.contains(where: { $0 == " " || $0 == "\n" || $0 == "{" })
    }

    /// A template from inline text or from a file under the templates directory; fields are checked.
    func template(_ node: Node?, _ field: String) -> MessageTemplate? {
        guard let node else { return nil }
        guard let text = y.string(node, field) else { return nil }
        guard Self.isFileName(text) else {
            let origin = y.origin(of: node)
            let (t, problems) = MessageTemplate.parse(text)
            check(t, problems, field: field, reporter: y) { YAMLFile.locate(line0: $0, column0: $1, in: origin) }
            return t
        }
        guard let dir = config.templatesDirectory else {
            y.report("\(field): '\(text)' names a template file, but herald.yaml sets no 'templates' directory", node: node)
            return nil
        }
        if text.split(separator: "/").contains("..") || text.hasPrefix("/") {
            y.report("\(field): template file '\(text)' must be a name under the templates directory", node: node)
            return nil
        }
        let path = URL(fileURLWithPath: dir).appendingPathComponent(text).path
        let source: String
        let limit = ConfigFileReader.maxTemplateBytes
        switch ConfigFileReader.read(path, what: "template file", limit: limit, inside: dir) {
        case .success(let t): source = t
        case .failure(.missing):
            y.report("\(field): template file '\(text)' not found in '\(dir)'", node: node)
            return nil
        case .failure(.refused(let why)):
            y.report("\(field): \(why)", node: node)
            return nil
        case .failure(.notText(let d)):
            y.absorb([d])
            return nil
        }
        let tf = YAMLFile(file: path, text: source)
        let (t, problems) = MessageTemplate.parse(source, file: path)
        check(t, problems, field: field, reporter: tf) { SourceLocation(file: path, line: $0 + 1, column: $1 + 1) }
        y.absorb(tf.diagnostics)
        return t
    }

    /// Reports syntax problems and fields the audience cannot have.
    func check(
        _ t: MessageTemplate, _ problems: [MessageTemplate.Problem], field: String, reporter: YAMLFile,
        at: (Int, Int) -> SourceLocation
    ) {
        for p in problems {
            reporter.report("\(field): template error: \(p.message)", at: at(p.line, p.column))
        }
        let allowed = config.templateFields
        for tag in t.tags where tag.name != "." && !allowed.contains(tag.name) {
            reporter.report(
                "\(field): unknown template field '\(tag.name)'; templates can use profile fields, declared attributes, "
                    + "user_id, unsubscribe_url, campaign_id and variant",
                at: at(tag.line, tag.column), length: tag.length,
                suggestion: NearMiss.didYouMean(tag.name, among: allowed))
        }
    }
}
