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

/// How an SMS text is encoded on the air and how many segments it takes.
public struct SMSEncoding: Sendable, Hashable {
    /// The data coding.
    public enum Coding: Sendable, Hashable {
        /// The GSM 03.38 7-bit default alphabet (with its extension table).
        case gsm7
        /// UCS-2 (UTF-16) for anything else.
        case ucs2
    }

    /// The coding the text needs.
    public let coding: Coding
    /// Length in septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2).
    public let units: Int
    /// The number of segments: 160/153 septets or 70/67 code units per segment.
    public let segments: Int

    /// Analyses `text`.
    public init(_ text: String) {
        var septets: [Int] = []
        var isGSM = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                septets.append(1)
            } else if Self.extended.contains(scalar) {
                septets.append(2)
            } else {
                isGSM = false
                break
            }
        }
        if isGSM {
            coding = .gsm7
            units = septets.reduce(0, +)
            segments = Self.count(septets, single: 160, multi: 153)
        } else {
            coding = .ucs2
            let widths = text.unicodeScalars.map { $0.value > 0xFFFF ? 2 : 1 }
            units = widths.reduce(0, +)
            segments = Self.count(widths, single: 70, multi: 67)
        }
    }

    /// Segments for a sequence of unsplittable widths (an escape pair or a surrogate pair stays whole).
    private static func count(_ widths: [Int], single: Int, multi: Int) -> Int {
        let total = widths.reduce(0, +)
        if total == 0 { return 1 }
        if total <= single { return 1 }
        var segments = 1
        var used = 0
        for width in widths {
            if used + width > multi {
                segments += 1
                used = 0
            }
            used += width
        }
        return segments
    }

    /// The GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)

    /// The GSM 03.38 extension table (each costs an escape septet too).
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
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
