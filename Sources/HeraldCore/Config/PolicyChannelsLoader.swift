import Foundation
import Yams

/// Resolves paths against the config directory and checks secret files without reading them.
struct PathResolver {
    let base: String
    let environment: [String: String]
    let yaml: YAMLFile

    /// `path` made absolute against the config file's directory.
    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Expands `${VAR}`; reports an unset variable against `field`.
    func expand(_ text: String, _ field: String, node: Node) -> String? {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                yaml.report("\(field): unterminated '${' in path", node: node)
                return nil
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else {
                yaml.report("\(field): environment variable '\(name)' is not set", node: node)
                return nil
            }
            out += value
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// A `*_file` value: expanded, made absolute, and checked readable. Its content is never read here.
    func secretFile(_ node: Node?, _ field: String) -> String? {
        guard let node, let raw = yaml.string(node, field), let expanded = expand(raw, field, node: node) else {
            return nil
        }
        let path = absolute(expanded)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            yaml.report("\(field): cannot read '\(path)': no such file", node: node)
        } else if isDir.boolValue {
            yaml.report("\(field): cannot read '\(path)': it is a directory", node: node)
        } else if !FileManager.default.isReadableFile(atPath: path) {
            yaml.report("\(field): cannot read '\(path)': permission denied", node: node)
        }
        return path
    }
}

extension HeraldConfig {
    static func parsePolicy(_ node: Node?, _ y: YAMLFile, topics: [Topic] = []) -> PolicyConfig {
        var p = PolicyConfig()
        let known = ["caps", "adaptive_caps", "quiet_hours", "default_timezone"]
        guard let m = y.map(node, "policy", known: known) else { return p }
        for (i, capNode) in y.list(m["caps"], "policy.caps").enumerated() {
            let path = "policy.caps[\(i)]"
            guard let c = y.map(capNode, path, known: ["channel", "topic", "max", "per"], required: ["max", "per"])
            else { continue }
            var scope: CapRule.Scope?
            switch (c["channel"], c["topic"]) {
            case (let ch?, nil):
                if let kind = y.choice(ch, "\(path).channel", CapChannel.self) {
                    scope = ChannelKind(rawValue: kind.rawValue).map { .channel($0) } ?? .anyChannel
                }
            case (nil, let t?):
                scope = y.name(t, "\(path).topic", pattern: "[a-z0-9][a-z0-9_-]*", NameRules.isTopic).map {
                    .topic($0)
                }
                // A cap on a misspelt topic would never count anything.
                if case .topic(let name)? = scope, let undeclared = Topic.undeclared(name, among: topics) {
                    y.report("\(path).topic: \(undeclared.message)", node: t, suggestion: undeclared.suggestion)
                }
            default:
                y.report("\(path): give exactly one of 'channel' or 'topic'", node: capNode)
            }
            let max = y.int(c["max"], "\(path).max", range: 1...1_000_000)
            let per = y.duration(c["per"], "\(path).per")
            if let scope, let max, let per { p.caps.append(CapRule(scope: scope, max: max, per: per)) }
        }
        if let v = y.bool(m["adaptive_caps"], "policy.adaptive_caps") { p.adaptiveCaps = v }
        if let q = y.map(m["quiet_hours"], "policy.quiet_hours", known: ["from", "to", "channels"],
                         required: ["from", "to"]) {
            let from = y.clock(q["from"], "policy.quiet_hours.from")
            let to = y.clock(q["to"], "policy.quiet_hours.to")
            var channels = ChannelKind.allCases
            if q["channels"] != nil {
                channels = y.list(q["channels"], "policy.quiet_hours.channels").compactMap {
                    y.choice($0, "policy.quiet_hours.channels", ChannelKind.self)
                }
            }
            if let from, let to {
                if from == to { y.report("policy.quiet_hours: 'from' and 'to' are equal", node: q["to"]) }
                p.quietHours = QuietHours(from: from, to: to, channels: channels)
            }
        }
        if let z = y.zone(m["default_timezone"], "policy.default_timezone") { p.defaultTimezone = z }
        return p
    }

    static func parseChannels(_ node: Node?, _ y: YAMLFile, _ paths: PathResolver) -> ChannelsConfig {
        var c = ChannelsConfig(outbox: paths.absolute("var/outbox"))
        guard let m = y.map(node, "channels", known: ["email", "sms", "webhook", "push", "outbox"]) else { return c }
        c.push = parsePush(m["push"], y, paths)
        if let o = y.string(m["outbox"], "channels.outbox") { c.outbox = paths.absolute(o) }
        let emailKeys = ["url", "insecure", "username", "password_file", "from", "ca_file", "rate", "quota"]
        if let e = y.map(m["email"], "channels.email", known: emailKeys) {
            var email = EmailChannelConfig()
            if let n = e["url"], let url = y.string(n, "channels.email.url") {
                if url.hasPrefix("smtp://") || url.hasPrefix("smtps://") {
                    email.url = url
                } else {
                    y.report("channels.email.url: expected an smtp:// or smtps:// URL", node: n)
                }
            }
            email.insecure = y.bool(e["insecure"], "channels.email.insecure") ?? false
            email.username = y.string(e["username"], "channels.email.username")
            email.passwordFile = paths.secretFile(e["password_file"], "channels.email.password_file")
            if let n = e["from"], let from = y.string(n, "channels.email.from") {
                email.from = Mailbox(parsing: from)
                if email.from == nil {
                    y.report(
                        "channels.email.from: expected a mailbox such as \"Shop <news@shop.example>\", got '\(from)'",
                        node: n)
                }
            }
            email.caFile = paths.secretFile(e["ca_file"], "channels.email.ca_file")
            email.rate = y.rate(e["rate"], "channels.email.rate")
            if let n = e["quota"] {
                email.quota = y.string(n, "channels.email.quota").flatMap { SendRate(parsing: $0, allowDay: true) }
                if email.quota?.perSeconds != 86_400 {
                    email.quota = nil
                    y.report("channels.email.quota: expected a daily quota such as 10000/day, got \(n.described)",
                             node: n)
                }
            }
            if email.url != nil && e["from"] == nil {
                y.report("channels.email: 'from' is required when 'url' is set", node: m.keyNode("email"))
            }
            c.email = email
        }
        let smsKeys = [
            "provider", "url", "username", "password_file", "from", "rate", "inbound_secret_file", "help_reply",
        ]
        if let s = y.map(m["sms"], "channels.sms", known: smsKeys) {
            var sms = SMSChannelConfig()
            if let p = y.choice(s["provider"], "channels.sms.provider", SMSProvider.self) { sms.provider = p }
            if let n = s["url"], let url = y.string(n, "channels.sms.url") {
                if url.hasPrefix("http://") || url.hasPrefix("https://") {
                    sms.url = url
                } else {
                    y.report("channels.sms.url: expected an http:// or https:// URL", node: n)
                }
            }
            sms.username = y.string(s["username"], "channels.sms.username")
            sms.passwordFile = paths.secretFile(s["password_file"], "channels.sms.password_file")
            if let n = s["from"], let from = y.string(n, "channels.sms.from") {
                if NameRules.isSMSSender(from) {
                    sms.from = from
                } else {
                    y.report(
                        "channels.sms.from: expected an E.164 number such as +15550001111 or a sender name of up to 11 letters and digits, got '\(from)'",
                        node: n)
                }
            }
            sms.rate = y.rate(s["rate"], "channels.sms.rate")
            sms.inboundSecretFile = paths.secretFile(s["inbound_secret_file"], "channels.sms.inbound_secret_file")
            sms.helpReply = y.string(s["help_reply"], "channels.sms.help_reply")
            c.sms = sms
        }
        if let w = y.map(m["webhook"], "channels.webhook", known: ["endpoints"]) {
            for (name, keyNode, value) in y.namedEntries(w["endpoints"], "channels.webhook.endpoints") {
                let path = "channels.webhook.endpoints.\(name)"
                guard NameRules.isCampaignID(name) else {
                    y.report("\(path): not a valid endpoint name; use [a-z0-9][a-z0-9-]*", node: keyNode)
                    continue
                }
                guard let e = y.map(value, path, known: ["url", "secret_file", "secret_files", "rate"]) else {
                    continue
                }
                var ep = WebhookEndpoint(name: name, url: nil)
                if let n = e["url"], let url = y.string(n, "\(path).url") {
                    if url.hasPrefix("http://") || url.hasPrefix("https://") {
                        ep.url = url
                    } else {
                        y.report("\(path).url: expected an http:// or https:// URL", node: n)
                    }
                }
                if let one = paths.secretFile(e["secret_file"], "\(path).secret_file") { ep.secretFiles.append(one) }
                for (i, n) in y.list(e["secret_files"], "\(path).secret_files").enumerated() {
                    if let f = paths.secretFile(n, "\(path).secret_files[\(i)]") { ep.secretFiles.append(f) }
                }
                ep.rate = y.rate(e["rate"], "\(path).rate")
                c.webhookEndpoints[name] = ep
            }
        }
        return c
    }
}

extension NameRules {
    /// An E.164 number (`+` and 8–15 digits) or an alphanumeric sender id of 1–11 characters.
    static func isSMSSender(_ s: String) -> Bool {
        let digits = s.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
        if s.hasPrefix("+") { return digits && (8...15).contains(s.count - 1) }
        return (1...11).contains(s.count) && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }
    }
}

/// The channels a cap may name besides `any`.
enum CapChannel: String, CaseIterable {
    case any, email, sms, webhook, push
}
