import Crypto

/// A JSON value whose objects keep their keys in the order written, so the bytes Herald sends (and measures
/// against the providers' size limits) are the same every time.
enum PushJSON: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case object([(String, PushJSON)])

    static func == (a: PushJSON, b: PushJSON) -> Bool { a.bytes == b.bytes }
    func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    /// An object of string values, keys sorted (a dictionary has no order of its own).
    static func strings(_ map: [String: String]) -> PushJSON {
        .object(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// The compact UTF-8 encoding.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// The compact encoding as text.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .string(let s): Self.write(string: s, to: &out)
        case .int(let n): out += Array(String(n).utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(string: key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX` escapes, the rest as UTF-8.
    private static func write(string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension Base64URL {
    /// The bytes of base64url text, padded or not, and tolerating the standard alphabet's `+` and `/` (browsers
    /// and libraries hand out subscription keys in all these forms); nil for anything else.
    static func decodeLenient(_ text: String) -> [UInt8]? {
        var chars: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            switch byte {
            case UInt8(ascii: "+"): chars.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): chars.append(UInt8(ascii: "_"))
            default: chars.append(byte)
            }
        }
        // Clear the unused low bits of the last character so `decode`, which wants the canonical form, takes it.
        if let last = chars.last, chars.count % 4 >= 2, let value = Self.value(last) {
            let mask: UInt8 = chars.count % 4 == 2 ? 0x30 : 0x3C
            chars[chars.count - 1] = Self.character(value & mask)
        }
        return decode(chars)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static func value(_ character: UInt8) -> UInt8? { alphabet.firstIndex(of: character).map(UInt8.init) }

    private static func character(_ value: UInt8) -> UInt8 { alphabet[Int(value)] }
}

/// Compact JWS (JWT) assembly: `base64url(header).base64url(claims).base64url(signature)`.
enum JWT {
    /// The signing input of a token with `header` and `claims`.
    static func signingInput(header: PushJSON, claims: PushJSON) -> String {
        Base64URL.encode(header.bytes) + "." + Base64URL.encode(claims.bytes)
    }

    /// An ES256 token: the P-256 ECDSA signature over SHA-256 as the raw 64-byte `r || s` (RFC 7518 §3.4).
    static func es256(header: PushJSON, claims: PushJSON, key: P256.Signing.PrivateKey) throws -> String {
        let input = signingInput(header: header, claims: claims)
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }
}
