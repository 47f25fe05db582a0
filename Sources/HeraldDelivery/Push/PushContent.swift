/// What a push says, rendered for one user: the same for each of their devices (docs/push.md).
public struct PushContent: Sendable, Hashable {
    /// The alert title; with no title and no body the push is a silent (background) one.
    public var title: String?
    /// The alert text.
    public var body: String?
    /// String values handed to the app; `herald_key` is added by every builder.
    public var data: [String: String]
    /// The app icon's badge number.
    public var badge: Int?
    /// The sound to play (`default`, or a sound file the app ships).
    public var sound: String?
    /// Pushes with the same collapse id replace each other on the device or while waiting.
    public var collapseID: String?
    /// Seconds the provider may keep trying to deliver; nil: the provider's default (the longest).
    public var ttl: Int?
    /// How urgently to deliver.
    public var priority: PushPriority

    /// A push.
    public init(title: String? = nil, body: String? = nil, data: [String: String] = [:], badge: Int? = nil,
                sound: String? = nil, collapseID: String? = nil, ttl: Int? = nil, priority: PushPriority = .high) {
        self.title = title
        self.body = body
        self.data = data
        self.badge = badge
        self.sound = sound
        self.collapseID = collapseID
        self.ttl = ttl
        self.priority = priority
    }

    /// True when the push shows an alert (a title or a body); false for a silent, background push.
    public var isAlert: Bool { !(title ?? "").isEmpty || !(body ?? "").isEmpty }

    /// The data with `herald_key` set to the ledger key, overriding any value the campaign gave it.
    func data(withKey key: String) -> [String: String] {
        var all = data
        all[PushPayload.keyField] = key
        return all
    }
}

/// `priority: high | normal` of a campaign's push.
public enum PushPriority: String, Sendable, Hashable, CaseIterable {
    /// Deliver at once, waking the device.
    case high
    /// Deliver when convenient for the device's battery.
    case normal
}

/// The three push services Herald talks to.
public enum PushProvider: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Apple Push Notification service (iOS devices).
    case apns
    /// Firebase Cloud Messaging HTTP v1 (Android devices).
    case fcm
    /// A browser's Web Push service.
    case webPush = "webpush"

    /// The provider's name in errors and logs.
    public var description: String {
        switch self {
        case .apns: "APNs"
        case .fcm: "FCM"
        case .webPush: "Web Push"
        }
    }
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
public struct WebPushSubscription: Sendable, Hashable {
    /// The push resource URL the message is POSTed to.
    public var endpoint: String
    /// The browser's P-256 public key, uncompressed point, base64url.
    public var p256dh: String
    /// The 16-byte authentication secret, base64url.
    public var auth: String

    /// A subscription.
    public init(endpoint: String, p256dh: String, auth: String) {
        self.endpoint = endpoint
        self.p256dh = p256dh
        self.auth = auth
    }
}

/// One registered device a push goes to.
public enum PushDevice: Sendable, Hashable, CustomStringConvertible {
    /// An iOS device: APNs device token (hexadecimal).
    case apns(token: String)
    /// An Android device: FCM registration token.
    case fcm(token: String)
    /// A browser: its Web Push subscription.
    case webPush(WebPushSubscription)

    /// The provider that reaches this device.
    public var provider: PushProvider {
        switch self {
        case .apns: .apns
        case .fcm: .fcm
        case .webPush: .webPush
        }
    }

    /// The device's identity in the device table: the token, or the subscription's endpoint.
    public var token: String {
        switch self {
        case .apns(let token), .fcm(let token): token
        case .webPush(let subscription): subscription.endpoint
        }
    }

    /// `APNs device …1a2b`: the provider and the token's last four characters only (tokens are credentials).
    public var description: String { "\(provider) device …\(token.suffix(4))" }
}

/// What a push service said when it took a push.
public struct PushReceipt: Sendable, Hashable {
    /// The provider that took it.
    public var provider: PushProvider
    /// The provider's id of the message: `apns-id`, FCM's message `name`, Web Push's `Location`.
    public var providerMessageID: String?
    /// The HTTP status of the acceptance.
    public var status: Int

    /// A receipt.
    public init(provider: PushProvider, providerMessageID: String?, status: Int) {
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.status = status
    }

    /// `APNs HTTP 200`, for the device's history.
    public var detail: String { "\(provider) HTTP \(status)" }
}
