import Foundation
import HeraldCore
import HeraldDelivery
import Testing

/// Long subjects as Python's `email` package reads them (Tests/Fixtures/parse_mail.py): no header line over 998
/// octets, no parse defects, and the subject decoded back exactly.
@Suite struct MIMEHeaderParseTests {
    @Test(arguments: [
        String(repeating: "x", count: 2_000),
        "Sale! " + String(repeating: "a", count: 997) + " ends today",
        String(repeating: "Grüße ", count: 250) + "— 限时优惠",
        String(repeating: "word ", count: 399) + "end",
    ])
    func longSubjectsParseBack(_ subject: String) throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let message = EmailMessage(
            from: Mailbox(parsing: "Shop <news@shop.example>")!, to: Mailbox(parsing: "ann@example.org")!,
            subject: subject, text: "Hello", html: nil, idempotencyKey: "winback:u1:1", date: 1_795_432_530,
            unsubscribeURL: "https://h.example/u/tok")
        try Data(try MIMEBuilder.build(message)).write(to: URL(fileURLWithPath: dir.file("m.eml")))
        let mail = try ParsedMail(file: dir.file("m.eml"), dir: dir)
        #expect(mail.rawHeaders.allSatisfy { $0.utf8.count <= 998 })
        #expect(mail.rawHeaders.allSatisfy { $0.utf8.count <= 78 || $0.hasPrefix("Message-ID:") })
        #expect((mail.json["defects"] as? [String])?.isEmpty == true, "\(mail.json["defects"] ?? "")")
        #expect(mail.header("Subject") == subject)
    }
}
