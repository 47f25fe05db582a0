/// An E.164 phone number: `+`, then 8 to 15 digits, the first not 0.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+15550001111`.
    public let e164: String

    /// Parses an E.164 number; spaces, dashes, dots and parentheses are ignored; nil when invalid.
    public init?(_ text: String) {
        let kept = text.filter { !" -.()".contains($0) }
        guard kept.first == "+" else { return nil }
        let digits = kept.dropFirst()
        guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0"
        else { return nil }
        e164 = kept
    }

    /// The E.164 form.
    public var description: String { e164 }
}

/// Percent-encoding for query strings and form bodies (RFC 3986 unreserved characters stay).
enum PercentEncoding {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || "-._~".contains(c) {
                out.append(c)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// `a=1&b=2` with each name and value encoded.
    static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
