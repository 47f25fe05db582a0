import Yams

/// `channels.push`: the providers that reach registered devices (docs/push.md). A provider left out sends its
/// devices' pushes nowhere: with no provider at all, pushes go to the outbox as JSON.
public struct PushChannelConfig: Sendable, Hashable {
    /// Throughput limit of the channel (all providers together).
    public var rate: SendRate?
    /// Apple devices.
    public var apns: APNsConfig?
    /// Android devices.
    public var fcm: FCMConfig?
    /// Browsers.
    public var webPush: WebPushConfig?

    /// A push section.
    public init(rate: SendRate? = nil, apns: APNsConfig? = nil, fcm: FCMConfig? = nil, webPush: WebPushConfig? = nil) {
        self.rate = rate
        self.apns = apns
        self.fcm = fcm
        self.webPush = webPush
    }

    /// True when no provider is configured (pushes go to the outbox).
    public var isEmpty: Bool { apns == nil && fcm == nil && webPush == nil }
}

/// `channels.push.apns`: token-based (ES256 JWT) authentication with a `.p8` key.
public struct APNsConfig: Sendable, Hashable {
    /// The 10-character Apple team id.
    public var teamID: String
    /// The 10-character id of the signing key.
    public var keyID: String
    /// The `.p8` private key file.
    public var keyFile: String
    /// The app's bundle id (`apns-topic`).
    public var topic: String
    /// `production` or `development`.
    public var development: Bool
    /// Overrides the host (`https://127.0.0.1:8443` in tests).
    public var url: String?
    /// A CA bundle to verify the host against (tests).
    public var caFile: String?

    /// An APNs section.
    public init(teamID: String, keyID: String, keyFile: String, topic: String, development: Bool = false,
                url: String? = nil, caFile: String? = nil) {
        self.teamID = teamID
        self.keyID = keyID
        self.keyFile = keyFile
        self.topic = topic
        self.development = development
        self.url = url
        self.caFile = caFile
    }
}

/// `channels.push.fcm`: FCM HTTP v1 with OAuth 2 from a service-account file.
public struct FCMConfig: Sendable, Hashable {
    /// The service-account JSON file (its `token_uri` is honoured).
    public var serviceAccountFile: String
    /// Overrides the send host (tests).
    public var url: String?
    /// A CA bundle to verify the hosts against (tests).
    public var caFile: String?

    /// An FCM section.
    public init(serviceAccountFile: String, url: String? = nil, caFile: String? = nil) {
        self.serviceAccountFile = serviceAccountFile
        self.url = url
        self.caFile = caFile
    }
}

/// `channels.push.webpush`: RFC 8291 encryption, RFC 8292 VAPID.
public struct WebPushConfig: Sendable, Hashable {
    /// The VAPID `sub` claim: `mailto:` or `https:` contact of the sender.
    public var subject: String
    /// The P-256 private key (PEM).
    public var privateKeyFile: String
    /// A CA bundle to verify push services against (tests).
    public var caFile: String?
    /// Hosts a subscription's endpoint may name besides the browsers' push services (tests, self-hosted).
    public var allowHosts: [String]

    /// A Web Push section.
    public init(subject: String, privateKeyFile: String, caFile: String? = nil, allowHosts: [String] = []) {
        self.subject = subject
        self.privateKeyFile = privateKeyFile
        self.caFile = caFile
        self.allowHosts = allowHosts
    }
}

extension HeraldConfig {
    /// `channels.push`, every field checked with its path.
    static func parsePush(_ node: Node?, _ y: YAMLFile, _ paths: PathResolver) -> PushChannelConfig? {
        guard let m = y.map(node, "channels.push", known: ["rate", "apns", "fcm", "webpush"]) else { return nil }
        var push = PushChannelConfig(rate: y.rate(m["rate"], "channels.push.rate"))
        func url(_ n: Node?, _ field: String) -> String? {
            guard let n, let u = y.string(n, field) else { return nil }
            guard u.hasPrefix("https://") || u.hasPrefix("http://") else {
                y.report("\(field): expected an https:// URL", node: n)
                return nil
            }
            return u.hasSuffix("/") ? String(u.dropLast()) : u
        }
        let apnsKeys = ["team_id", "key_id", "key_file", "topic", "environment", "url", "ca_file"]
        if let a = y.map(m["apns"], "channels.push.apns", known: apnsKeys,
                         required: ["team_id", "key_id", "key_file", "topic"]) {
            let team = y.string(a["team_id"], "channels.push.apns.team_id")
            let key = y.string(a["key_id"], "channels.push.apns.key_id")
            for (value, field) in [(team, "team_id"), (key, "key_id")] {
                if let value, value.count != 10 || !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                    y.report("channels.push.apns.\(field): expected Apple's 10-character id, got '\(value)'",
                             node: a[field])
                }
            }
            var development = false
            if let n = a["environment"], let env = y.string(n, "channels.push.apns.environment") {
                switch env {
                case "production": development = false
                case "development", "sandbox": development = true
                default: y.report("channels.push.apns.environment: expected production or development, got '\(env)'", node: n)
                }
            }
            let file = paths.secretFile(a["key_file"], "channels.push.apns.key_file")
            let topic = y.string(a["topic"], "channels.push.apns.topic")
            if let team, let key, let file, let topic {
                push.apns = APNsConfig(teamID: team, keyID: key, keyFile: file, topic: topic, development: development,
                                       url: url(a["url"], "channels.push.apns.url"),
                                       caFile: paths.secretFile(a["ca_file"], "channels.push.apns.ca_file"))
            }
        }
        if let f = y.map(m["fcm"], "channels.push.fcm", known: ["service_account_file", "url", "ca_file"],
                         required: ["service_account_file"]),
           let file = paths.secretFile(f["service_account_file"], "channels.push.fcm.service_account_file") {
            push.fcm = FCMConfig(serviceAccountFile: file, url: url(f["url"], "channels.push.fcm.url"),
                                 caFile: paths.secretFile(f["ca_file"], "channels.push.fcm.ca_file"))
        }
        if let w = y.map(m["webpush"], "channels.push.webpush",
                         known: ["subject", "private_key_file", "ca_file", "allow_hosts"],
                         required: ["subject", "private_key_file"]) {
            let subject = y.string(w["subject"], "channels.push.webpush.subject")
            if let subject, !subject.hasPrefix("mailto:") && !subject.hasPrefix("https://") {
                y.report("channels.push.webpush.subject: expected a mailto: or https: contact, got '\(subject)'",
                         node: w["subject"])
            }
            let hosts = y.list(w["allow_hosts"], "channels.push.webpush.allow_hosts").compactMap {
                y.string($0, "channels.push.webpush.allow_hosts")
            }
            if let subject, let file = paths.secretFile(w["private_key_file"], "channels.push.webpush.private_key_file") {
                push.webPush = WebPushConfig(subject: subject, privateKeyFile: file,
                                             caFile: paths.secretFile(w["ca_file"], "channels.push.webpush.ca_file"),
                                             allowHosts: hosts)
            }
        }
        return push
    }
}
