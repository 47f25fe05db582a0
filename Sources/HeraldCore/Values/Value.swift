/// The declared type of a custom attribute (docs/campaigns.md `attributes:`).
public enum AttributeType: String, Sendable, Hashable, CaseIterable, Codable {
    case string
    case number
    case bool
    case timestamp
    /// A list of strings, e.g. tags.
    case list
}

/// A stored attribute value. Timestamps are epoch seconds (UTC).
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case timestamp(Int64)
    case list([String])

    /// The attribute type this value has, or nil for `null`.
    public var type: AttributeType? {
        switch self {
        case .null: nil
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .timestamp: .timestamp
        case .list: .list
        }
    }

    /// True for `.null`.
    public var isNull: Bool { if case .null = self { true } else { false } }
}

/// The custom attribute schema declared in herald.yaml; segments and templates are checked against it.
public struct AttributeSchema: Sendable, Hashable {
    /// Declared attributes by name.
    public var types: [String: AttributeType]

    /// A schema from name → type.
    public init(_ types: [String: AttributeType] = [:]) { self.types = types }

    /// The declared type of `name`, if any.
    public subscript(name: String) -> AttributeType? { types[name] }

    /// Declared names, sorted.
    public var names: [String] { types.keys.sorted() }
}

/// The profile fields every user has, reserved in imports and usable in segments.
public enum ReservedField: String, Sendable, CaseIterable {
    case id, email, phone, timezone, locale
    case createdAt = "created_at"
    case birthday
    case lastSeenAt = "last_seen_at"

    /// The type of the field as seen by the segment language.
    public var type: AttributeType {
        switch self {
        case .id, .email, .phone, .timezone, .locale: .string
        case .createdAt, .birthday, .lastSeenAt: .timestamp
        }
    }
}
