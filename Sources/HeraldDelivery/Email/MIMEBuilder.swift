import Crypto
import Foundation
import HeraldCore

/// Builds RFC 5322 / 2045 / 2047 messages: folded headers, encoded-words for UTF-8 text,
/// quoted-printable or base64 bodies, multipart/alternative when both bodies are present.
///
/// Header injection is impossible: any CR, LF or NUL in a header input is refused, and
/// addresses must be plain addr-specs.
public enum MIMEBuilder {
    /// The complete message with CRLF line endings, or an `invalidRequest` error.
    public static func build(_ message: EmailMessage) throws(DeliveryError) -> [UInt8] {
        for (field, value) in [("subject", message.subject), ("from name", message.from.displayName ?? ""),
                               ("to name", message.to.displayName ?? ""), ("unsubscribe URL", message.unsubscribeURL ?? ""),
                               ("unsubscribe mailto", message.unsubscribeMailto ?? ""), ("idempotency key", message.idempotencyKey)]
        where value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw DeliveryError(.invalidRequest, "the email \(field) contains a line break or NUL", isRetryable: false)
        }
        for box in [message.from, message.to] where Mailbox(parsing: box.address)?.address != box.address {
            throw DeliveryError(.invalidRequest, "'\(box.address.prefix(64))' is not a plain email address", isRetryable: false)
        }
        guard message.text != nil || message.html != nil else {
            throw DeliveryError(.invalidRequest, "the email has neither a text nor an HTML body", isRetryable: false)
        }
        let domain = message.from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        var lines: [String] = []
        lines += fold("From", mailbox(message.from))
        lines += fold("To", mailbox(message.to))
        lines += fold("Subject", phrase(message.subject, quoteIfNeeded: false))
        lines.append("Date: " + rfc5322Date(message.date))
        lines.append("Message-ID: " + messageID(key: message.idempotencyKey, domain: domain))
        lines.append("MIME-Version: 1.0")
        if let url = message.unsubscribeURL {
            var targets = ["<\(url)>"]
            if let mailto = message.unsubscribeMailto { targets.append("<\(mailto.hasPrefix("mailto:") ? mailto : "mailto:" + mailto)>") }
            lines += fold("List-Unsubscribe", targets.joined(separator: ", "))
            if url.hasPrefix("https://") { lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click") }
        }
        let parts = [message.text.map { ("text/plain", $0) }, message.html.map { ("text/html", $0) }].compactMap { $0 }
        if parts.count == 1 {
            lines += part(type: parts[0].0, body: parts[0].1)
        } else {
            let boundary = "=_herald_" + hex(SHA256.hash(data: Array(("boundary:" + message.idempotencyKey).utf8))).prefix(24)
            lines.append("Content-Type: multipart/alternative;")
            lines.append(" boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a MIME message with text and HTML versions.")
            for (type, body) in parts {
                lines.append("--" + boundary)
                lines += part(type: type, body: body)
            }
            lines.append("--" + boundary + "--")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// `<sha256-hex(key)@domain>`: the same key always gives the same Message-ID.
    public static func messageID(key: String, domain: String) -> String {
        "<" + hex(SHA256.hash(data: Array(key.utf8))) + "@" + domain + ">"
    }

    /// An RFC 5322 date in UTC: `Mon, 23 Nov 2026 11:15:30 +0000`.
    public static func rfc5322Date(_ unix: Int64) -> String {
        let days = Int(unix >= 0 ? unix / 86_400 : (unix - 86_399) / 86_400)
        let secs = Int(unix - Int64(days) * 86_400)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        // Civil-from-days (Howard Hinnant's algorithm, proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(day)) \(names[month - 1]) \(year) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) +0000"
    }

    /// `text`'s UTF-8 with CRLF and lone CR turned into LF.
    static func unixNewlines(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var previousCR = false
        for b in text.utf8 {
            if b == UInt8(ascii: "\r") {
                out.append(UInt8(ascii: "\n"))
                previousCR = true
                continue
            }
            if !(b == UInt8(ascii: "\n") && previousCR) { out.append(b) }
            previousCR = false
        }
        return out
    }

    /// The headers and encoded body of one text part.
    static func part(type: String, body: String) -> [String] {
        let bytes = Self.unixNewlines(body)
        let normalized = String(decoding: bytes, as: UTF8.self)
        let nonASCII = bytes.filter { $0 >= 0x80 }.count
        // Mostly non-Latin text is shorter in base64; Latin text stays readable in quoted-printable.
        let useBase64 = nonASCII * 3 > bytes.count
        var lines = ["Content-Type: \(type); charset=UTF-8",
                     "Content-Transfer-Encoding: " + (useBase64 ? "base64" : "quoted-printable"), ""]
        if useBase64 {
            let encoded = Data(Array(normalized.replacingOccurrences(of: "\n", with: "\r\n").utf8)).base64EncodedString()
            var index = encoded.startIndex
            while index < encoded.endIndex {
                let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                lines.append(String(encoded[index..<end]))
                index = end
            }
        } else {
            lines += QuotedPrintable.encode(normalized)
        }
        return lines
    }

    /// A mailbox header value: `"Name" <addr>`, `=?UTF-8?B?…?= <addr>` or `addr`.
    static func mailbox(_ box: Mailbox) -> String {
        guard let name = box.displayName, !name.isEmpty else { return box.address }
        return phrase(name, quoteIfNeeded: true) + " <" + box.address + ">"
    }

    /// ASCII text as is (quoted for a display name when it has specials), other text as encoded-words.
    static func phrase(_ text: String, quoteIfNeeded: Bool) -> String {
        let printable = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if printable && !text.contains("=?") {
            guard quoteIfNeeded else { return text }
            let specials = "()<>[]:;@\\,.\""
            if !text.contains(where: { specials.contains($0) }) { return text }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return EncodedWord.encode(text).joined(separator: " ")
    }

    /// `Name: value` folded at spaces so no line exceeds 78 characters where a space allows it.
    /// (Only an unbreakable token, such as the 64-hex-digit Message-ID, can make a longer line; 998 is the hard limit.)
    static func fold(_ name: String, _ value: String) -> [String] {
        var lines: [String] = []
        var current = name + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if current.count + 1 + word.count > 78 && current.contains(where: { $0 != " " }) && current != name + ":" {
                lines.append(current)
                current = ""
            }
            current += " " + word
        }
        lines.append(current)
        return lines
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// RFC 2047 `B` encoded-words over UTF-8, never splitting a character; each is at most 60 characters,
/// so even the first one fits on a header line of 78.
enum EncodedWord {
    static func encode(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 36 && !chunk.isEmpty {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words
    }
}

/// RFC 2045 quoted-printable, lines of at most 76 characters with soft breaks.
enum QuotedPrintable {
    /// `text` (lines separated by LF) as quoted-printable lines of at most 76 bytes, soft breaks ending in `=`.
    /// Works on bytes: counting a String's characters per appended piece made long bodies quadratic.
    static func encode(_ text: String) -> [String] {
        var out: [String] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let bytes = Array(line)
            var current: [UInt8] = []
            current.reserveCapacity(80)
            for (i, byte) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != 61 && !(i == 0 && byte == 46))
                    || ((byte == 32 || byte == 9) && !last)
                if current.count + (literal ? 1 : 3) > 75 {
                    current.append(UInt8(ascii: "="))
                    out.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                }
                if literal {
                    current.append(byte)
                } else {
                    current += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                }
            }
            out.append(String(decoding: current, as: UTF8.self))
        }
        return out
    }
}
