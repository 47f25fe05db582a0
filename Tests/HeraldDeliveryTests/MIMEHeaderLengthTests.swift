import Foundation
import HeraldCore
import Testing

@testable import HeraldDelivery

/// Every header line stays within RFC 5322's 998 octets: long subjects and names fold (as encoded-words when a
/// word is too long to fold), and a header with no place to fold is refused with a clear error.
@Suite struct MIMEHeaderLengthTests {
    func message(subject: String, fromName: String = "Shop", unsubscribe: String? = "https://h.example/u/tok")
        -> EmailMessage
    {
        EmailMessage(
            from: Mailbox(parsing: "\"\(fromName)\" <news@shop.example>")!, to: Mailbox(parsing: "ann@example.org")!,
            subject: subject, text: "Hello", html: nil, idempotencyKey: "winback:u1:1", date: 1_795_432_530,
            unsubscribeURL: unsubscribe)
    }

    /// The header lines of a built message.
    func headerLines(_ m: EmailMessage) throws -> [String] {
        let text = String(decoding: try MIMEBuilder.build(m), as: UTF8.self)
        return text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
    }

    /// The unfolded value of `name`, with encoded-words decoded (they are separated by folding white space,
    /// which RFC 2047 drops between adjacent encoded-words).
    func value(_ name: String, _ lines: [String]) throws -> String {
        let unfolded = lines.joined(separator: "\r\n").replacingOccurrences(of: "\r\n ", with: " ")
        let line = try #require(unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix(name + ": ") })
        var out = ""
        var previousEncoded = false
        for word in line.dropFirst(name.count + 2).split(separator: " ", omittingEmptySubsequences: false) {
            let encoded = word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=")
            if !out.isEmpty && !(encoded && previousEncoded) { out += " " }
            if encoded {
                let b64 = String(word.dropFirst(10).dropLast(2))
                out += String(decoding: try #require(Data(base64Encoded: b64)), as: UTF8.self)
            } else {
                out += word
            }
            previousEncoded = encoded
        }
        return out
    }

    static let subjects = [
        String(repeating: "x", count: 2_000),  // one word, no place to fold
        "Sale! " + String(repeating: "a", count: 997) + " ends today",
        String(repeating: "word ", count: 400),  // 2000 characters that fold at spaces
        String(repeating: "限时优惠", count: 300),
        "https://shop.example/" + String(repeating: "p", count: 120),  // a long URL: folds as encoded-words
    ]

    @Test(arguments: subjects)
    func longSubjectsFoldWithinTheLimits(_ subject: String) throws {
        let lines = try headerLines(message(subject: subject))
        for line in lines where !line.hasPrefix("Message-ID:") {
            #expect(line.utf8.count <= 78, "\(line.prefix(100))… (\(line.utf8.count) octets)")
        }
        #expect(lines.allSatisfy { $0.utf8.count <= MIMEBuilder.maxLineOctets })
        let decoded = try value("Subject", lines)
        #expect(decoded == subject || decoded == subject.trimmingCharacters(in: .whitespaces))
    }

    @Test func aLongDisplayNameIsEncodedToo() throws {
        let name = String(repeating: "N", count: 1_200)
        let lines = try headerLines(message(subject: "Hi", fromName: name))
        #expect(lines.allSatisfy { $0.utf8.count <= 78 || $0.hasPrefix("Message-ID:") })
        #expect(lines.contains { $0.hasPrefix("From: =?UTF-8?B?") })
        #expect(try value("From", lines) == name + " <news@shop.example>")
    }

    @Test func aHeaderWithNoPlaceToFoldIsRefused() {
        let url = "https://h.example/u/" + String(repeating: "t", count: 1_000)
        let error = #expect(throws: DeliveryError.self) { try MIMEBuilder.build(message(subject: "Hi", unsubscribe: url)) }
        #expect(error?.code == .invalidRequest && error?.isRetryable == false)
        #expect(error?.message.contains("List-Unsubscribe") == true && error?.message.contains("998") == true)
    }
}
