import Foundation
import HeraldCore

/// Renders a campaign message's templates for one user into what the transports send.
public struct MessageRenderer: Sendable {
    /// The values templates see besides the profile: `user_id`, `campaign_id`, `variant`, `unsubscribe_url`.
    public var context: [String: String]

    /// A renderer with message-context values.
    public init(context: [String: String]) { self.context = context }

    /// The value of template field `name` for `profile`.
    public func lookup(_ name: String, in profile: UserProfile) -> Value? {
        if let value = context[name] { return .string(value) }
        switch ReservedField(rawValue: name) {
        case .id: return .string(profile.id)
        case .email: return profile.email.map(Value.string)
        case .phone: return profile.phone.map(Value.string)
        case .timezone: return profile.timezone.map(Value.string)
        case .locale: return profile.locale.map(Value.string)
        case .createdAt: return profile.createdAt.map(Value.timestamp)
        case .lastSeenAt: return profile.lastSeenAt.map(Value.timestamp)
        case .birthday: return profile.birthday.map { .string($0.description) }
        case nil: return profile.attributes[name]
        }
    }

    /// Renders `template` as text, or as HTML (values escaped) when `html`.
    public func render(_ template: MessageTemplate, for profile: UserProfile, html: Bool = false) -> String {
        template.render(html: html) { lookup($0, in: profile) }
    }

    /// Renders a webhook body to JSON bytes (keys in file order; string leaves are templates).
    public func renderJSON(_ body: Campaign.BodyValue, for profile: UserProfile) -> [UInt8] {
        var out = ""
        write(body, profile, &out)
        return Array(out.utf8)
    }

    private func write(_ value: Campaign.BodyValue, _ profile: UserProfile, _ out: inout String) {
        switch value {
        case .template(let t): out += Self.quote(render(t, for: profile))
        case .number(let n): out += n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, profile, &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, field) in fields.enumerated() {
                if i > 0 { out += "," }
                out += Self.quote(field.key) + ":"
                write(field.value, profile, &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String { JSONString.quote(s) }
}
