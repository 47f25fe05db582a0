/// SMS length in segments: GSM-7 (160 single, 153 per part) or UCS-2 (70 single, 67 per part).
public struct SMSLength: Sendable, Hashable, CustomStringConvertible {
    /// The encoding the text needs.
    public enum Encoding: String, Sendable, Hashable {
        /// The GSM 03.38 default alphabet (with its extension table).
        case gsm7 = "GSM-7"
        /// Anything else.
        case ucs2 = "UCS-2"
    }

    /// The encoding.
    public var encoding: Encoding
    /// Septets (GSM-7; extension characters count 2) or UTF-16 code units (UCS-2).
    public var units: Int
    /// Number of SMS parts.
    public var segments: Int

    /// `GSM-7, 42 chars, 1 segment`.
    public var description: String {
        "\(encoding.rawValue), \(units) \(encoding == .gsm7 ? "septets" : "units"), \(segments) segment\(segments == 1 ? "" : "s")"
    }

    /// The GSM 03.38 basic character set.
    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    /// The GSM 03.38 extension table (each costs an escape septet).
    static let extended: Set<Character> = Set("^{}\\[~]|€\u{0C}")

    /// Measures `text`.
    public static func measure(_ text: String) -> SMSLength {
        var septets = 0
        var gsm = true
        for c in text {
            if basic.contains(c) {
                septets += 1
            } else if extended.contains(c) {
                septets += 2
            } else {
                gsm = false
                break
            }
        }
        if gsm {
            return SMSLength(
                encoding: .gsm7, units: septets,
                segments: septets <= 160 ? (septets == 0 ? 0 : 1) : (septets + 152) / 153)
        }
        let units = text.utf16.count
        return SMSLength(encoding: .ucs2, units: units, segments: units <= 70 ? 1 : (units + 66) / 67)
    }
}
