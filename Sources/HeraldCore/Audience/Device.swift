/// A platform a push device belongs to, named as `POST /v1/devices` names it (docs/push.md).
public enum DevicePlatform: String, Sendable, Hashable, CaseIterable, Codable {
    /// An Apple device, reached through APNs.
    case ios
    /// An Android device, reached through FCM.
    case android
    /// A browser, reached through its Web Push service.
    case web

    /// The platform a Segment `context.device.type` names (`ios`, `android`, `web`, any case), or nil.
    public init?(segmentType: String) {
        self.init(rawValue: segmentType.lowercased())
    }
}

/// A device as an API call, an import or a Segment call registers it.
public struct DeviceRegistration: Sendable, Hashable {
    /// The user it belongs to.
    public var userID: String
    /// Its platform.
    public var platform: DevicePlatform
    /// The APNs or FCM token; for the web, the subscription's endpoint URL.
    public var token: String
    /// Web Push: the browser's P-256 public key (base64url).
    public var p256dh: String?
    /// Web Push: the authentication secret (base64url).
    public var auth: String?

    /// A registration.
    public init(userID: String, platform: DevicePlatform, token: String, p256dh: String? = nil, auth: String? = nil) {
        self.userID = userID
        self.platform = platform
        self.token = token
        self.p256dh = p256dh
        self.auth = auth
    }

    /// Why this registration cannot be stored, or nil: tokens are 1–4,096 bytes without whitespace or control
    /// characters; web devices need an https endpoint and both keys; ios tokens are hexadecimal.
    public var problem: String? {
        if token.isEmpty || token.utf8.count > 4096 { return "token: expected 1 to 4096 bytes" }
        if token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            return "token: must not contain spaces or control characters"
        }
        switch platform {
        case .ios:
            if !token.utf8.allSatisfy(\.isASCIIHexDigit) { return "token: an APNs device token is hexadecimal" }
        case .android:
            break
        case .web:
            if !token.hasPrefix("https://") { return "subscription.endpoint: expected an https:// URL" }
            if (p256dh ?? "").isEmpty || (auth ?? "").isEmpty {
                return "subscription.keys: both p256dh and auth are required"
            }
        }
        return nil
    }
}

/// A device in the registry, active or not.
public struct RegisteredDevice: Sendable, Hashable {
    /// The registration.
    public var registration: DeviceRegistration
    /// False once the provider declared the token dead (or it was bad).
    public var active: Bool
    /// When it was last registered, epoch seconds.
    public var registeredAt: Int64
    /// Why it was deactivated (`Unregistered`, `BadDeviceToken`, `UNREGISTERED`, `410`…).
    public var deactivatedReason: String?
    /// When it was deactivated, epoch seconds.
    public var deactivatedAt: Int64?

    /// A stored device.
    public init(registration: DeviceRegistration, active: Bool, registeredAt: Int64, deactivatedReason: String? = nil,
                deactivatedAt: Int64? = nil) {
        self.registration = registration
        self.active = active
        self.registeredAt = registeredAt
        self.deactivatedReason = deactivatedReason
        self.deactivatedAt = deactivatedAt
    }
}

/// The most devices one push goes to: the most recently registered active ones.
public enum DeviceLimits {
    /// Ten, the newest first.
    public static let perPush = 10
}

extension UInt8 {
    /// True for `0-9`, `a-f`, `A-F` (device-token checks here and in the APNs sender).
    package var isASCIIHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
