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
        var out: [UInt8] = []
        out.reserveCapacity(1024 + 2 * ((message.text?.utf8.count ?? 0) + (message.html?.utf8.count ?? 0)))
        func line(_ text: String) {
            out += text.utf8
            out += crlf
        }
        func folded(_ name: String, _ value: String) throws(DeliveryError) {
            for l in fold(name, value) {
                // Only a token with no place to fold (an address, a URL) can get here: refuse rather than emit it.
                guard l.utf8.count <= maxLineOctets else {
                    throw DeliveryError(
                        .invalidRequest,
                        "the email \(name) header would have a \(l.utf8.count)-octet line with no place to fold it (the limit is \(maxLineOctets))",
                        isRetryable: false)
                }
                line(l)
            }
        }
        try folded("From", mailbox(message.from))
        try folded("To", mailbox(message.to))
        try folded("Subject", phrase(message.subject, quoteIfNeeded: false))
        line("Date: " + rfc5322Date(message.date))
        try folded("Message-ID", messageID(key: message.idempotencyKey, domain: domain))
        line("MIME-Version: 1.0")
        if let url = message.unsubscribeURL {
            var targets = ["<\(url)>"]
            if let mailto = message.unsubscribeMailto { targets.append("<\(mailto.hasPrefix("mailto:") ? mailto : "mailto:" + mailto)>") }
            try folded("List-Unsubscribe", targets.joined(separator: ", "))
            if url.hasPrefix("https://") { line("List-Unsubscribe-Post: List-Unsubscribe=One-Click") }
        }
        let parts = [message.text.map { ("text/plain", $0) }, message.html.map { ("text/html", $0) }].compactMap { $0 }
        if parts.count == 1 {
            part(type: parts[0].0, body: parts[0].1, into: &out)
        } else {
            let boundary = "=_herald_" + hex(SHA256.hash(data: Array(("boundary:" + message.idempotencyKey).utf8))).prefix(24)
            line("Content-Type: multipart/alternative;")
            line(" boundary=\"\(boundary)\"")
            line("")
            line("This is a MIME message with text and HTML versions.")
            for (type, body) in parts {
                line("--" + boundary)
                part(type: type, body: body, into: &out)
            }
            line("--" + boundary + "--")
        }
        return out
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    /// The most octets a header line may have before its CRLF (RFC 5322 §2.1.1).
    public static let maxLineOctets = 998

    /// The longest word a plain-text phrase keeps as it is: with the space before it, it fits a folded line of
    /// 78 characters. A longer one (no place to fold) makes the phrase encoded-words, which fold anywhere.
    static let maxPlainWord = 76

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
        var text = text
        return text.withUTF8 { unixNewlines($0) }
    }

    /// `bytes` with CRLF and lone CR turned into LF.
    static func unixNewlines(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "\r")) else { return Array(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var previousCR = false
        for b in bytes {
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

    /// The headers and encoded body of one text part, each line ended by CRLF.
    static func part(type: String, body: String, into out: inout [UInt8]) {
        let bytes = Self.unixNewlines(body)
        let nonASCII = bytes.reduce(0) { $0 + ($1 >= 0x80 ? 1 : 0) }
        // Mostly non-Latin text is shorter in base64; Latin text stays readable in quoted-printable.
        let useBase64 = nonASCII * 3 > bytes.count
        out += "Content-Type: \(type); charset=UTF-8\r\n".utf8
        out += "Content-Transfer-Encoding: \(useBase64 ? "base64" : "quoted-printable")\r\n\r\n".utf8
        if useBase64 {
            var withCRLF: [UInt8] = []
            withCRLF.reserveCapacity(bytes.count + bytes.count / 32)
            for byte in bytes {
                if byte == 0x0A { withCRLF.append(0x0D) }
                withCRLF.append(byte)
            }
            let encoded = Array(Data(withCRLF).base64EncodedString().utf8)
            var index = 0
            while index < encoded.count {
                let end = min(index + 76, encoded.count)
                out += encoded[index..<end]
                out += crlf
                index = end
            }
        } else {
            QuotedPrintable.encode(bytes, into: &out)
        }
    }

    /// A mailbox header value: `"Name" <addr>`, `=?UTF-8?B?…?= <addr>` or `addr`.
    static func mailbox(_ box: Mailbox) -> String {
        guard let name = box.displayName, !name.isEmpty else { return box.address }
        return phrase(name, quoteIfNeeded: true) + " <" + box.address + ">"
    }

    /// ASCII text as is (quoted for a display name when it has specials), other text as encoded-words, which
    /// also carry ASCII text with a word too long to fold (so no header line nears the 998-octet limit).
    static func phrase(_ text: String, quoteIfNeeded: Bool) -> String {
        let utf8 = text.utf8
        let printable = utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        let foldable = !utf8.split(separator: UInt8(ascii: " ")).contains { $0.count > maxPlainWord }
        // "=?" would read as the start of an encoded-word.
        if printable && foldable
            && !zip(utf8, utf8.dropFirst()).contains(where: { $0 == UInt8(ascii: "=") && $1 == UInt8(ascii: "?") })
        {
            guard quoteIfNeeded else { return text }
            if !utf8.contains(where: { specials.contains($0) }) { return text }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return EncodedWord.encode(text).joined(separator: " ")
    }

    /// RFC 5322 specials that make a display name need quotes.
    private static let specials = Set("()<>[]:;@\\,.\"".utf8)

    /// `Name: value` folded at spaces so no line exceeds 78 characters where a space allows it.
    /// (Only an unbreakable token, such as the 64-hex-digit Message-ID, can make a longer line; `build` refuses a
    /// line over the hard limit of 998 octets.)
    static func fold(_ name: String, _ value: String) -> [String] {
        var lines: [String] = []
        var current = name + ":"
        // The length in characters, whether anything but spaces is on the line, and whether it holds the name alone.
        var length = current.count, printed = true, nameOnly = true
        for word in value.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false) {
            // Characters, as before; for ASCII (nearly every header) that is the byte count.
            let wordLength = word.allSatisfy { $0 < 0x80 } ? word.count : Substring(word).count
            if length + 1 + wordLength > 78 && printed && !nameOnly {
                lines.append(current)
                current = ""
                length = 0
                printed = false
            }
            current += " "
            current += Substring(word)
            length += 1 + wordLength
            printed = printed || wordLength > 0
            nameOnly = false
        }
        lines.append(current)
        return lines
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
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
    static func encode(_ text: String) -> [String] {
        var out: [UInt8] = []
        encode(Array(text.utf8), into: &out)
        return String(decoding: out, as: UTF8.self).components(separatedBy: "\r\n").dropLast()
    }

    /// Appends `bytes` (lines separated by LF) as quoted-printable lines, each ended by CRLF.
    static func encode(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + bytes.count / 8 + 2)
        var lineLength = 0
        var start = true
        bytes.withUnsafeBufferPointer { bytes in
            for i in 0..<bytes.count {
                let byte = bytes[i]
                if byte == 0x0A {
                    out.append(0x0D)
                    out.append(0x0A)
                    lineLength = 0
                    start = true
                    continue
                }
                let last = i == bytes.count - 1 || bytes[i + 1] == 0x0A
                let literal = (byte >= 33 && byte <= 126 && byte != 61 && !(start && byte == 46))
                    || ((byte == 32 || byte == 9) && !last)
                if lineLength + (literal ? 1 : 3) > 75 {
                    out.append(UInt8(ascii: "="))
                    out.append(0x0D)
                    out.append(0x0A)
                    lineLength = 0
                }
                if literal {
                    out.append(byte)
                    lineLength += 1
                } else {
                    out.append(UInt8(ascii: "="))
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 15)])
                    lineLength += 3
                }
                start = false
            }
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
