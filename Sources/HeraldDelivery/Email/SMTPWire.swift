/// The bytes of an SMTP transaction (RFC 5321) and the parsing of the server's replies: no I/O here.

/// One complete server reply: its code and the text of its last line.
struct SMTPServerReply: Equatable {
    var code: Int
    var text: String

    var isPositive: Bool { (200..<400).contains(code) }
    /// A 4xx reply: the server may accept the same command later.
    var isTransient: Bool { (400..<500).contains(code) }
    /// A refusal that blames the login, not the message (RFC 4954): 530 authentication required, 534 mechanism
    /// too weak, 535 credentials invalid, and 454 with a 4.7.x security status (temporary authentication failure).
    var isAuthFailure: Bool { SMTPServerReply.isAuthFailure(code: code, text: text) }

    /// `isAuthFailure` for a reply code and its text.
    static func isAuthFailure(code: Int, text: String) -> Bool {
        switch code {
        case 530, 534, 535: true
        case 454: text.hasPrefix("4.7.")
        default: false
        }
    }
}

/// Cuts replies out of the bytes a server sends; a reply may span reads and have continuation lines (`250-…`).
struct SMTPReplyParser {
    private var buffer: [UInt8] = []
    private var consumed = 0

    /// A line longer than this (RFC 5321 allows 512 octets) means the peer is not speaking SMTP.
    static let maxLine = 4096

    struct Malformed: Error, Equatable {
        let line: String
    }

    /// Bytes held: read but not yet returned as a reply, plus what was consumed since the last compaction.
    var buffered: Int { buffer.count }

    /// Appends received bytes.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if consumed > 0 && consumed == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed >= 4096 {
            // Reads that keep ending inside a reply must not grow the buffer for the life of the connection.
            buffer.removeSubrange(0..<consumed)
            consumed = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil until more bytes arrive; throws when a line is not an SMTP reply line.
    mutating func next() throws(Malformed) -> SMTPServerReply? {
        var start = consumed
        while true {
            guard let lf = buffer[start...].firstIndex(of: 0x0A) else {
                if buffer.count - start > Self.maxLine { throw Malformed(line: Self.printable(buffer[start...].prefix(80))) }
                return nil
            }
            var end = lf
            if end > start && buffer[end - 1] == 0x0D { end -= 1 }
            let line = buffer[start..<end]
            guard line.count >= 3, line.prefix(3).allSatisfy({ (0x30...0x39).contains($0) }),
                  line.count == 3 || line[start + 3] == 0x20 || line[start + 3] == 0x2D else {
                throw Malformed(line: Self.printable(line.prefix(80)))
            }
            start = lf + 1
            if line.count == 3 || line[line.startIndex + 3] == 0x20 {
                consumed = start
                let code = line.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
                // Only a refusal's text is ever shown, so an acceptance skips making it.
                return SMTPServerReply(code: code, text: code >= 400 ? Self.printable(line.dropFirst(4).prefix(200)) : "")
            }
        }
    }

    /// Server text made safe to show in an error: printable ASCII only.
    static func printable(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

enum SMTPWire {
    /// `MAIL FROM:<address>\r\n`.
    static func mail(from address: String) -> [UInt8] { Array("MAIL FROM:<\(address)>\r\n".utf8) }

    /// `RCPT TO:<address>\r\n`.
    static func rcpt(to address: String) -> [UInt8] { Array("RCPT TO:<\(address)>\r\n".utf8) }

    static let data = Array("DATA\r\n".utf8)
    static let reset = Array("RSET\r\n".utf8)
    static let quit = Array("QUIT\r\n".utf8)
    /// What ends the data of a transaction that has no recipient left: an empty message.
    static let emptyData = Array(".\r\n".utf8)

    /// The message as sent after `354`: every line that starts with "." gets another one (RFC 5321 §4.5.2), a bare
    /// CR or LF becomes CRLF, and `.` on a line of its own ends it.
    static func dataSection(_ message: [UInt8]) -> [UInt8] {
        if isClean(message) {
            // The usual case (MIMEBuilder's output): CRLF lines, none starting with ".", ending in CRLF.
            var out = message
            out.append(contentsOf: [UInt8(ascii: "."), 0x0D, 0x0A])
            return out
        }
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        var atLineStart = true
        var i = 0
        while i < message.count {
            let byte = message[i]
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            switch byte {
            case 0x0D:
                out.append(0x0D); out.append(0x0A)
                if i + 1 < message.count && message[i + 1] == 0x0A { i += 1 }
                atLineStart = true
            case 0x0A:
                out.append(0x0D); out.append(0x0A)
                atLineStart = true
            default:
                out.append(byte)
                atLineStart = false
            }
            i += 1
        }
        if !atLineStart { out.append(0x0D); out.append(0x0A) }
        out.append(contentsOf: [UInt8(ascii: "."), 0x0D, 0x0A])
        return out
    }

    /// True when `message` needs no change before its terminator: every CR is followed by LF and every LF preceded
    /// by CR, no line starts with ".", and it ends with CRLF.
    static func isClean(_ message: [UInt8]) -> Bool {
        message.withUnsafeBufferPointer { bytes in
            guard bytes.count >= 2, bytes[bytes.count - 2] == 0x0D, bytes[bytes.count - 1] == 0x0A,
                  bytes[0] != UInt8(ascii: ".") else { return false }
            var i = 0
            while i < bytes.count {
                switch bytes[i] {
                case 0x0D:
                    guard i + 1 < bytes.count, bytes[i + 1] == 0x0A else { return false }
                    if i + 2 < bytes.count && bytes[i + 2] == UInt8(ascii: ".") { return false }
                    i += 2
                case 0x0A:
                    return false
                default:
                    i += 1
                }
            }
            return true
        }
    }
}
