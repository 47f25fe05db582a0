import HeraldCore

/// Builds one JSON object line by hand, keys in the order given (stable output for scripts and tests).
struct JSONLine {
    private var parts: [String] = []

    /// Adds a string, or null.
    mutating func add(_ key: String, _ value: String?) {
        parts.append("\(Self.quote(key)):\(value.map(Self.quote) ?? "null")")
    }

    /// Adds an integer.
    mutating func add(_ key: String, _ value: Int) { parts.append("\(Self.quote(key)):\(value)") }

    /// Adds a number, or null for nil / non-finite.
    mutating func add(_ key: String, _ value: Double?) {
        let text = value.flatMap { $0.isFinite ? Self.number($0) : nil } ?? "null"
        parts.append("\(Self.quote(key)):\(text)")
    }

    /// Adds a boolean.
    mutating func add(_ key: String, _ value: Bool) { parts.append("\(Self.quote(key)):\(value)") }

    /// Adds pre-rendered JSON.
    mutating func addRaw(_ key: String, _ json: String) { parts.append("\(Self.quote(key)):\(json)") }

    /// The object text.
    var text: String { "{" + parts.joined(separator: ",") + "}" }

    /// A JSON number without a trailing `.0` for integral values.
    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String { JSONString.quote(s) }
}
