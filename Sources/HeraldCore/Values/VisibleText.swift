/// Text made safe to print on a terminal or in a log line: characters that would move the cursor, end the
/// line, start an escape sequence or reorder what follows are shown as escapes instead (`\n`, `\t`,
/// `\u{1B}`). Backslashes are left alone, so ordinary text prints unchanged (docs/api.md).
public enum VisibleText {
    /// True for C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the
    /// bidirectional formatting characters (which make a terminal show later text in another order).
    public static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A...0x202E,
            0x2066...0x2069:
            true
        default: false
        }
    }

    /// `text` with every `isControl` character replaced by its escape.
    public static func escape(_ text: String) -> String {
        guard mayHoldControl(text) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for s in text.unicodeScalars {
            guard isControl(s) else {
                out.unicodeScalars.append(s)
                continue
            }
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// `text` escaped line by line: its line feeds stay (a message body prints as lines), every other control
    /// character is escaped.
    public static func escapeLines(_ text: String) -> String {
        guard mayHoldControl(text) else { return text }
        // By scalar: a CRLF is one Character, and its CR is escaped while its LF stays.
        return text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { escape(String(String.UnicodeScalarView($0))) }.joined(separator: "\n")
    }

    /// False when no byte of `text` can begin a control character: log lines and table cells almost never
    /// hold one, and this keeps them from being copied.
    static func mayHoldControl(_ text: String) -> Bool {
        for b in text.utf8 where b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xD8 || b == 0xE2 {
            return text.unicodeScalars.contains(where: isControl)
        }
        return false
    }
}
