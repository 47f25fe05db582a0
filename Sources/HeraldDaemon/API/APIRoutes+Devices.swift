import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import HeraldIngest
import Hummingbird

extension APIRoutes {
    /// What `POST /v1/devices` answers.
    struct DeviceReply: Encodable {
        /// Always true: the device is stored.
        var ok = true
        /// The user.
        var user: String
        /// The platform.
        var platform: String
        /// The user's active devices now.
        var active: Int
    }

    /// `POST /v1/devices {"userId", "platform": "ios|android|web", "token"}` — a web device gives
    /// `"subscription": {"endpoint", "keys": {"p256dh", "auth"}}` instead of a token (docs/push.md).
    func registerDevice(_ request: Request) async throws -> Response {
        let body = try await jsonObject(request)
        try body.onlyKeys(["userId", "platform", "token", "subscription"])
        guard case .string(let user)? = body["userId"], !user.isEmpty else {
            throw APIError(.badRequest, "missing required field 'userId'", field: "userId")
        }
        if let problem = UserID.problem(user) { throw APIError(.badRequest, "'userId' \(problem)", field: "userId") }
        guard case .string(let name)? = body["platform"], let platform = DevicePlatform(rawValue: name) else {
            throw APIError(.badRequest, "'platform' must be ios, android or web", field: "platform")
        }
        var registration: DeviceRegistration
        if platform == .web {
            guard case .object(let s)? = body["subscription"], case .string(let endpoint)? = s["endpoint"],
                  case .object(let keys)? = s["keys"], case .string(let p256dh)? = keys["p256dh"],
                  case .string(let auth)? = keys["auth"]
            else {
                throw APIError(.badRequest, "a web device needs 'subscription': {\"endpoint\", \"keys\": {\"p256dh\", \"auth\"}}",
                               field: "subscription")
            }
            registration = DeviceRegistration(userID: user, platform: .web, token: endpoint, p256dh: p256dh, auth: auth)
            // The endpoint is a URL an API client chose: only push services are ever sent to.
            let hosts = deps.config.channels.push?.webPush?.allowHosts ?? []
            guard WebPushEndpoints.isAllowed(endpoint, extraHosts: hosts) else {
                throw APIError(.badRequest, "'subscription.endpoint' is not on a known push service "
                               + "(add its host to channels.push.webpush.allow_hosts)", field: "subscription.endpoint")
            }
        } else {
            guard case .string(let token)? = body["token"] else {
                throw APIError(.badRequest, "missing required field 'token'", field: "token")
            }
            registration = DeviceRegistration(userID: user, platform: platform, token: token)
        }
        if let problem = registration.problem {
            throw APIError(.badRequest, problem, field: platform == .web ? "subscription" : "token")
        }
        try await deps.store.registerDevices([registration], at: deps.clock())
        let active = try await deps.store.activeDevices(users: [user], limit: Int.max)[user]?.count ?? 0
        return APIReply.json(DeviceReply(user: user, platform: platform.rawValue, active: active))
    }

    /// `DELETE /v1/devices/{token}` (a web device: its endpoint, percent-encoded): 404 when unknown.
    func removeDevice(_ token: String) async throws -> Response {
        guard try await deps.store.removeDevice(token: token) else {
            throw APIError(.notFound, "no device with this token")
        }
        return APIReply.json(["ok": true])
    }

    /// Devices named by Segment calls' `context.device`, and opens reported as `push_opened` events: each marks
    /// the ledger row named by its `properties.herald_key` opened (engagement counts it, docs/push.md).
    func applyPushSideEffects(_ parsed: SegmentCall.Parsed) async throws {
        if !parsed.devices.isEmpty { try await deps.store.registerDevices(parsed.devices, at: deps.clock()) }
        for event in parsed.events where event.name == PushEvents.opened {
            guard let key = PushEvents.heraldKey(event.propertiesJSON) else { continue }
            _ = try await deps.ledger.markOpened(key: key, at: event.timestampMillis / 1000)
        }
    }
}

/// The events a push-enabled app sends back.
enum PushEvents {
    /// The app opened a push: `properties.herald_key` names its ledger row.
    static let opened = "push_opened"

    /// `properties.herald_key` of an event, when it is a non-empty string.
    static func heraldKey(_ propertiesJSON: String?) -> String? {
        guard let json = propertiesJSON, let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let key = object[PushPayload.keyField] as? String, !key.isEmpty
        else { return nil }
        return key
    }
}
