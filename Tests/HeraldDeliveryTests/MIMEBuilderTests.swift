import Foundation
import HeraldCore
@testable import HeraldDelivery
import Testing

@Suite struct MIMEBuilderTests {
    func message(subject: String = "Your cart misses you", text: String? = "Hello there", html: String? = "<p>Hello</p>",
                 fromName: String = "Shop", unsubscribe: String? = "https://h.example/u/tok") -> EmailMessage {
        EmailMessage(from: Mailbox(parsing: "\(fromName) <news@shop.example>")!, to: Mailbox(parsing: "ann@example.org")!,
                     subject: subject, text: text, html: html, idempotencyKey: "winback:u1:2026-11-23", date: 1_795_432_530,
                     unsubscribeURL: unsubscribe, unsubscribeMailto: "unsub@shop.example")
    }

    func render(_ m: EmailMessage) throws -> String { String(decoding: try MIMEBuilder.build(m), as: UTF8.self) }

    @Test func headersOfAMarketingMessage() throws {
        let text = try render(message())
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("From: Shop <news@shop.example>"))
        #expect(head.contains("To: ann@example.org"))
        #expect(head.contains("Subject: Your cart misses you"))
        #expect(head.contains("Date: Mon, 23 Nov 2026 11:15:30 +0000"))
        #expect(head.contains("MIME-Version: 1.0"))
        #expect(head.contains("List-Unsubscribe: <https://h.example/u/tok>, <mailto:unsub@shop.example>"))
        #expect(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        #expect(head.contains("Content-Type: multipart/alternative;"))
        #expect(!text.contains("\n") || !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func messageIDIsDeterministic() throws {
        let a = try render(message())
        let b = try render(message(subject: "another subject"))
        let id = MIMEBuilder.messageID(key: "winback:u1:2026-11-23", domain: "shop.example")
        #expect(a.contains("Message-ID: \(id)"))
        #expect(b.contains("Message-ID: \(id)"))
        #expect(id.count == 64 + 2 + 1 + "shop.example".count)
    }

    @Test func utf8SubjectAndNameBecomeEncodedWords() throws {
        let subject = "Grüße aus München — 限时优惠, nur heute für Sie und Ihre Familie, ganz ohne Versandkosten ✓"
        let text = try render(message(subject: subject, fromName: "Café Zoë"))
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("From: =?UTF-8?B?"))
        for line in head.components(separatedBy: "\r\n") where !line.hasPrefix("Message-ID:") { #expect(line.utf8.count <= 78, "\(line)") }
        // Unfold and decode the encoded-words back.
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ")
        let subjectLine = unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }!
        let decoded = subjectLine.dropFirst(9).split(separator: " ").map { word -> String in
            let b64 = word.dropFirst(10).dropLast(2)
            return String(decoding: Data(base64Encoded: String(b64))!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
    }

    @Test func quotedPrintableAndBase64Bodies() throws {
        let latin = try render(message(text: "Prix spécial = 10 € " + String(repeating: "x", count: 100), html: nil))
        #expect(latin.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(latin.contains("sp=C3=A9cial =3D 10 =E2=82=AC"))
        for line in latin.components(separatedBy: "\r\n") where !line.hasPrefix("Message-ID:") { #expect(line.utf8.count <= 78, "\(line)") }
        let chinese = try render(message(text: "您好，限时优惠今天结束。", html: nil))
        #expect(chinese.contains("Content-Transfer-Encoding: base64"))
        #expect(chinese.contains(Data("您好，限时优惠今天结束。".utf8).base64EncodedString()))
    }

    @Test(arguments: ["Hi\r\nBcc: victim@example.org", "Hi\nX: y", "Hi\rX: y", "nul\0"])
    func headerInjectionIsRefused(subject: String) {
        #expect(throws: DeliveryError.self) { try MIMEBuilder.build(message(subject: subject)) }
        var named = message()
        named.to.displayName = subject
        #expect(throws: DeliveryError.self) { try MIMEBuilder.build(named) }
        var unsub = message()
        unsub.unsubscribeURL = "https://x.example/\(subject)"
        #expect(throws: DeliveryError.self) { try MIMEBuilder.build(unsub) }
    }

    @Test func forgedAddressesAreRefused() {
        var m = message()
        m.to.address = "a@b.example>\r\nRCPT TO:<x@y.example"
        #expect(throws: DeliveryError.self) { try MIMEBuilder.build(m) }
    }

    @Test func transactionalMailHasNoUnsubscribeHeaders() throws {
        let text = try render(message(unsubscribe: nil))
        #expect(!text.contains("List-Unsubscribe"))
    }

    @Test(arguments: [(Int64(0), "Thu, 01 Jan 1970 00:00:00 +0000"), (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"),
                      (1_795_432_530, "Mon, 23 Nov 2026 11:15:30 +0000")])
    func dates(unix: Int64, expected: String) { #expect(MIMEBuilder.rfc5322Date(unix) == expected) }
}

/// Quoted-printable on bytes: lines within 76 bytes, and decoding gives back exactly the text.
@Suite struct QuotedPrintableTests {
    /// RFC 2045 §6.7 decoding: `=XX` escapes, `=` at a line end is a soft break.
    static func decode(_ lines: [String]) -> String {
        var out: [UInt8] = []
        for (n, line) in lines.enumerated() {
            let b = Array(line.utf8)
            var i = 0
            var soft = false
            while i < b.count {
                if b[i] == UInt8(ascii: "=") {
                    if i == b.count - 1 { soft = true; break }
                    out.append(UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                    i += 3
                } else {
                    out.append(b[i])
                    i += 1
                }
            }
            if !soft && n < lines.count - 1 { out.append(UInt8(ascii: "\n")) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [
        "short line",
        String(repeating: "a", count: 300),
        String(repeating: "é=ü ", count: 60) + "\n.leading dot\ntrailing space \n\ttab\t\n" + String(repeating: "生日快乐", count: 30),
        "=\n==\n" + String(repeating: "x", count: 74) + "=",
    ])
    func roundTripsWithinLineLimits(_ text: String) {
        let lines = QuotedPrintable.encode(text)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") && !$0.hasSuffix("\t") })
        #expect(lines.allSatisfy { !$0.hasPrefix(".") })
        #expect(Self.decode(lines) == text)
    }
}
