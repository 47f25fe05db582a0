import Foundation
import HeraldCore

extension PushSender {
    /// The senders `config` names, their secrets read once here; errors name the field, never the content.
    /// APNs goes over `apnsEngine` (one HTTP/2 connection, many streams) when given, else `engine`.
    public init(config: PushChannelConfig, engine: CurlEngine, apnsEngine: CurlEngine? = nil) throws {
        func secret(_ path: String, _ field: String) throws -> String {
            switch SecretFile.read(path, field: field) {
            case .success(let text): return text
            case .failure(let f): throw DeliveryError(.invalidRequest, f.diagnostic.message, isRetryable: false)
            }
        }
        var apns: APNsSender?
        if let a = config.apns {
            let token = try APNsProviderToken(
                teamID: a.teamID, keyID: a.keyID, pem: secret(a.keyFile, "channels.push.apns.key_file"),
                field: "channels.push.apns.key_file")
            apns = APNsSender(
                settings: APNsSettings(topic: a.topic, environment: a.development ? .development : .production,
                                       url: a.url, tls: TLSOptions(caFile: a.caFile)),
                providerToken: token, engine: apnsEngine ?? engine)
        }
        var fcm: FCMSender?
        if let f = config.fcm {
            let field = "channels.push.fcm.service_account_file"
            let account = try FCMServiceAccount(json: secret(f.serviceAccountFile, field), field: field)
            fcm = FCMSender(account: account, settings: FCMSettings(url: f.url, tls: TLSOptions(caFile: f.caFile)),
                            engine: engine)
        }
        var webPush: WebPushSender?
        if let w = config.webPush {
            let field = "channels.push.webpush.private_key_file"
            let vapid = try VAPIDSigner(subject: w.subject, pem: secret(w.privateKeyFile, field), field: field)
            webPush = WebPushSender(vapid: vapid, settings: WebPushSettings(tls: TLSOptions(caFile: w.caFile)),
                                    engine: engine)
        }
        self.init(apns: apns, fcm: fcm, webPush: webPush)
    }
}

extension PushDevice {
    /// The device a registry entry names.
    public init(_ device: RegisteredDevice) {
        let r = device.registration
        switch r.platform {
        case .ios: self = .apns(token: r.token)
        case .android: self = .fcm(token: r.token)
        case .web: self = .webPush(WebPushSubscription(endpoint: r.token, p256dh: r.p256dh ?? "", auth: r.auth ?? ""))
        }
    }
}

extension PushContent {
    /// The content of a push rendered for one user.
    public init(_ push: RenderedPush) {
        self.init(title: push.title, body: push.body, data: push.data, badge: push.badge, sound: push.sound,
                  collapseID: push.collapseID, ttl: push.ttl.map { Int($0) }, priority: push.highPriority ? .high : .normal)
    }
}

/// Which Web Push endpoints Herald will POST to. A subscription comes from an API client, so its endpoint is
/// a URL an outsider chose: only the browsers' push services (and hosts the operator lists in
/// `channels.push.webpush.allow_hosts`) are reached, never an internal address.
public enum WebPushEndpoints {
    /// The push services of Chrome/Edge (FCM), Firefox (Mozilla autopush), Safari (Apple) and Edge (WNS).
    public static let knownSuffixes = [
        "fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com",
    ]

    /// True when `endpoint` is an https URL on a known push service or on one of `extraHosts` (exact host).
    public static func isAllowed(_ endpoint: String, extraHosts: [String] = []) -> Bool {
        guard let url = URL(string: endpoint), let host = url.host?.lowercased() else { return false }
        if extraHosts.contains(where: { $0.lowercased() == host }) { return true }
        guard url.scheme == "https" else { return false }
        return knownSuffixes.contains { host == $0 || host.hasSuffix("." + $0) }
    }
}

/// What became of one push row sent to a user's devices (docs/push.md).
public struct PushDispatch: Sendable {
    /// One result per device, in the order sent.
    public var attempts: [PushAttempt]
    /// The row's result: accepted when any device took it; else the most hopeful failure (retryable before
    /// refused credentials before permanent ones).
    public var result: Result<Accepted, DeliveryError>
    /// Devices the providers declared dead: (token, reason, since) for the registry.
    public var dead: [(token: String, reason: String, since: Int64?)]

    /// `APNs …1a2b HTTP 200; FCM …9f3c UNREGISTERED (deactivated)`: each device's result, for the row's history.
    public var detail: String { Self.describe(attempts) }

    /// Each device's result of `attempts`, on one line.
    static func describe(_ attempts: [PushAttempt]) -> String {
        attempts.map { a in
            let name = "\(a.device.provider) …\(a.device.token.suffix(4))"
            switch a.result {
            case .success(let receipt): return "\(name) HTTP \(receipt.status)"
            case .failure(let e): return "\(name) \(e.reason)" + (e.isDeadToken ? " (deactivated)" : "")
            }
        }.joined(separator: "; ")
    }

    /// The outcome of `attempts`.
    public init(attempts: [PushAttempt]) {
        self.attempts = attempts
        var dead: [(String, String, Int64?)] = []
        var accepted: PushReceipt?
        var failures: [PushError] = []
        for a in attempts {
            switch a.result {
            case .success(let r): accepted = accepted ?? r
            case .failure(let e):
                failures.append(e)
                if case .deadToken(let since) = e.verdict { dead.append((a.device.token, e.reason, since.map { Int64($0) })) }
            }
        }
        self.dead = dead
        if let accepted {
            result = .success(Accepted(providerMessageID: accepted.providerMessageID, detail: Self.describe(attempts)))
        } else {
            func rank(_ e: PushError) -> Int {
                switch e.verdict {
                case .retry: 0
                case .credentialsRefused: 1
                case .payloadTooLarge, .permanent: 2
                case .deadToken: 3
                }
            }
            let first = failures.min { rank($0) < rank($1) }
            result = .failure(first?.deliveryError
                              ?? DeliveryError(.deviceGone, "no active device", isRetryable: false))
        }
    }
}

extension Outbox {
    /// Writes a push (no provider configured) as a `.json` file: the content, `herald_key`, and each device as
    /// its platform and the token's last four characters (tokens are credentials).
    @discardableResult
    public func writePush(key: String, content: PushContent, devices: [PushDevice]) throws -> String {
        var push: [String: Any] = ["data": content.data.merging([PushPayload.keyField: key]) { _, new in new },
                                   "priority": content.priority.rawValue]
        push["title"] = content.title
        push["body"] = content.body
        push["badge"] = content.badge
        push["sound"] = content.sound
        push["collapse_id"] = content.collapseID
        push["ttl"] = content.ttl
        let object: [String: Any] = [
            "channel": "push", "id": key, "push": push,
            "devices": devices.map { ["provider": $0.provider.rawValue, "token": "…" + $0.token.suffix(4)] },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return try write(key: key, ext: "json", bytes: Array(data))
    }
}
