import Foundation
import HeraldDelivery
import Testing

/// `herald send-test` end to end: the built `herald` binary, the repository's example config and
/// campaigns, and real receivers (the verifying webhook receiver and aiosmtpd with STARTTLS + AUTH).
@Suite(.serialized) struct SendTestCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let herald = root + "/.build/debug/herald"

    /// Runs `herald ARGS` in `dir`; returns the exit status and the combined output.
    func herald(_ arguments: [String], in dir: TempDirectory, config: Bool = true) throws -> (Int32, String) {
        let run = try TestServer("herald", Self.herald, arguments + (config ? ["--config", dir.file("herald.yaml")] : []),
                                 log: dir.file("herald.out"))
        run.process.waitUntilExit()
        return (run.process.terminationStatus, run.log)
    }

    /// The example config with `line` replaced by `replacement`, the example campaigns and templates plus the
    /// fixture `cart-reminder` (a plain event campaign sending a webhook), and 20 sample users.
    func prepare(_ dir: TempDirectory, replacing line: String, with replacement: String) throws {
        let yaml = try String(contentsOfFile: Self.root + "/herald.yaml", encoding: .utf8)
        #expect(yaml.contains(line))
        try dir.write("herald.yaml", yaml.replacingOccurrences(of: line, with: replacement))
        for folder in ["campaigns", "templates"] {
            try FileManager.default.copyItem(atPath: Self.root + "/" + folder, toPath: dir.file(folder))
        }
        try FileManager.default.copyItem(
            atPath: Fixtures.directory + "/campaigns/cart-reminder.yaml", toPath: dir.file("campaigns/cart-reminder.yaml"))
        #expect(try herald(["sample", "--users", "20", "--out", dir.file("sample")], in: dir, config: false).0 == 0)
        let (status, output) = try herald(["users", "import", dir.file("sample/users.ndjson")], in: dir)
        #expect(status == 0, "\(output)")
    }

    @Test func webhookCampaignIsSignedAndVerified() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let secret = "whsec_" + Data("send-test-secret-key".utf8).base64EncodedString()
        let receiver = try TestServer("webhook receiver", python3,
                                      [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("record.jsonl"), secret],
                                      log: dir.file("receiver.log"))
        defer { receiver.stop() }
        let port = try await readyPort(dir.file("ready"), server: receiver)
        try dir.write("secret", secret + "\n")
        try prepare(dir, replacing: "      push-gateway: { rate: 200/s }", with: """
                  push-gateway: { url: "http://127.0.0.1:\(port)/hooks/push", secret_file: \(dir.file("secret")) }
            """)
        let (status, output) = try herald(["send-test", "cart-reminder", "--user", "u0000001"], in: dir)
        #expect(status == 0, "\(output)")
        let lines = jsonLines(dir.file("record.jsonl"))
        #expect(lines.count == 1)
        #expect(lines.first?["verified"] as? Int == 1)
        #expect((lines.first?["id"] as? String)?.hasPrefix("send-test:cart-reminder:u0000001:") == true)
        #expect(!output.contains(secret))
    }

    @Test func emailCampaignGoesThroughSMTP() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try makeCertificates(in: dir)
        try dir.write("password", "smtp-pass")
        try FileManager.default.createDirectory(atPath: dir.file("mail"), withIntermediateDirectories: true)
        let smtp = try TestServer("aiosmtpd", python3,
                                  [Fixtures.script("smtp_server.py"), dir.file("ready"), dir.file("mail"), dir.file("server.pem"),
                                   dir.file("server.key"), "herald", dir.file("password")], log: dir.file("smtp.log"))
        defer { smtp.stop() }
        let port = try await readyPort(dir.file("ready"), server: smtp)
        try prepare(dir, replacing: "    from: \"Shop <news@shop.example>\"", with: """
                url: smtp://127.0.0.1:\(port)
                username: herald
                password_file: \(dir.file("password"))
                ca_file: \(dir.file("ca.pem"))
                from: "Shop <news@shop.example>"
            """)
        let (status, output) = try herald(["send-test", "winback-dormant", "--user", "u0000001", "--to", "qa@example.org"], in: dir)
        #expect(status == 0, "\(output)")
        let mail = try ParsedMail(file: dir.file("mail/1.eml"), dir: dir)
        #expect(mail.header("To") == "qa@example.org")
        #expect(mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click" || mail.header("List-Unsubscribe") != nil)
        #expect(!output.contains("smtp-pass"))
    }

    @Test func noProviderWritesTheOutbox() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try prepare(dir, replacing: "\n", with: "\n")
        let (status, output) = try herald(["send-test", "birthday-sms", "--user", "u0000001", "--to", "+15550002222"], in: dir)
        #expect(status == 0, "\(output)")
        let outbox = dir.file("var/outbox")
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox)
        #expect(files.count == 1 && files[0].hasSuffix(".json"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outbox + "/" + files[0])))
        #expect((json as? [String: Any])?["to"] as? String == "+15550002222")
    }
}
