import HeraldCore
import HeraldLedger

/// Push devices in imported rows (docs/push.md): a users NDJSON row's `devices` array, each
/// `{"platform": "ios"|"android", "token": …}` or `{"platform": "web", "subscription": {"endpoint", "keys":
/// {"p256dh", "auth"}}}`.
enum DeviceJSON {
    /// The devices of a `devices` value for `user`; the first problem throws with its message.
    static func parse(_ value: JSONValue, user: String) throws(DeviceJSONError) -> [DeviceRegistration] {
        guard case .array(let items) = value else { throw DeviceJSONError("'devices' must be an array") }
        return try items.enumerated().map { (i, item) throws(DeviceJSONError) -> DeviceRegistration in
            guard case .object(let m) = item else { throw DeviceJSONError("devices[\(i)] must be an object") }
            func string(_ members: [JSONMember], _ key: String) -> String? {
                guard case .string(let s)? = members.last(where: { $0.key == key })?.value else { return nil }
                return s
            }
            guard let name = string(m, "platform"), let platform = DevicePlatform(rawValue: name) else {
                throw DeviceJSONError("devices[\(i)].platform must be ios, android or web")
            }
            var device: DeviceRegistration
            if platform == .web {
                guard case .object(let s)? = m.last(where: { $0.key == "subscription" })?.value,
                      let endpoint = string(s, "endpoint"),
                      case .object(let keys)? = s.last(where: { $0.key == "keys" })?.value
                else { throw DeviceJSONError("devices[\(i)]: a web device needs subscription.endpoint and subscription.keys") }
                device = DeviceRegistration(userID: user, platform: .web, token: endpoint, p256dh: string(keys, "p256dh"),
                                            auth: string(keys, "auth"))
            } else {
                guard let token = string(m, "token") else { throw DeviceJSONError("devices[\(i)].token is required") }
                device = DeviceRegistration(userID: user, platform: platform, token: token)
            }
            if let problem = device.problem { throw DeviceJSONError("devices[\(i)].\(problem)") }
            return device
        }
    }
}

/// Why a `devices` value was refused.
struct DeviceJSONError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
