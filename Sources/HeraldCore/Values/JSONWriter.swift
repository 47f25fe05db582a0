/// Canonical JSON text: object keys sorted by their UTF-8 bytes (a repeated key keeps its last
/// value), no spaces, integral numbers without a fraction, strings escaped minimally.
package enum JSONWriter {
    /// The canonical text of a value.
    package static func canonical(_ v: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(v, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON array of strings (how list attributes are stored).
    package static func stringArray(_ items: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (k, s) in items.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            writeString(s, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The strings of a JSON array of strings, or nil.
    package static func parseStringArray(_ text: String) -> [String]? {
        guard case .array(let items) = try? JSONParser.parse(text) else { return nil }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    private static func write(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .number(let d): out.append(contentsOf: format(d).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for m in sortedUnique(members) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Members sorted by key bytes, the last of each repeated key kept.
    package static func sortedUnique(_ members: [JSONMember]) -> [JSONMember] {
        var ordered = true
        for k in members.indices.dropFirst()
        where !members[k - 1].key.utf8.lexicographicallyPrecedes(members[k].key.utf8) {
            ordered = false
            break
        }
        if ordered { return members }
        let indexed = members.enumerated().sorted { a, b in
            if a.element.key == b.element.key { return a.offset > b.offset }
            return a.element.key.utf8.lexicographicallyPrecedes(b.element.key.utf8)
        }
        var out: [JSONMember] = []
        out.reserveCapacity(members.count)
        for (_, m) in indexed where out.last?.key != m.key { out.append(m) }
        return out
    }

    /// Shortest round-trip text; integral values up to 2^53 without a fraction.
    package static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { return String(Int64(d)) }
        return String(describing: d)
    }

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
