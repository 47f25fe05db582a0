/// How an SMS text is encoded on the air and how many segments it takes.
///
/// The one segment counter: dry-run's samples and the send both use it, so they never disagree. An escape
/// pair (GSM-7 extension character) or a surrogate pair is never split across segments; an empty text is
/// still one message.
public struct SMSEncoding: Sendable, Hashable, CustomStringConvertible {
    /// The data coding.
    public enum Coding: Sendable, Hashable {
        /// The GSM 03.38 7-bit default alphabet (with its extension table).
        case gsm7
        /// UCS-2 (UTF-16) for anything else.
        case ucs2

        /// `GSM-7` or `UCS-2`.
        public var name: String { self == .gsm7 ? "GSM-7" : "UCS-2" }
    }

    /// The coding the text needs.
    public let coding: Coding
    /// Length in septets (GSM-7, extension characters count 2) or UTF-16 code units (UCS-2).
    public let units: Int
    /// The number of segments: 160/153 septets or 70/67 code units per segment.
    public let segments: Int

    /// `GSM-7, 42 septets, 1 segment`.
    public var description: String {
        "\(coding.name), \(units) \(coding == .gsm7 ? "septets" : "units"), \(segments) segment\(segments == 1 ? "" : "s")"
    }

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

