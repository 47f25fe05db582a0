import Foundation
import HeraldCore
import HeraldDelivery
import Testing

/// A CA and a server certificate for 127.0.0.1, made with `openssl` in `dir`.
func makeCertificates(in dir: TempDirectory) throws {
    try dir.write("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    let steps: [[String]] = [
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file("ca.key"),
         "-out", dir.file("ca.pem"), "-days", "2", "-subj", "/CN=Herald Test CA"],
        ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file("server.key"),
         "-out", dir.file("server.csr"), "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", dir.file("server.csr"), "-CA", dir.file("ca.pem"), "-CAkey", dir.file("ca.key"),
         "-CAcreateserial", "-out", dir.file("server.pem"), "-days", "2", "-extfile", dir.file("ext.cnf")],
    ]
    for arguments in steps {
        let tool = try TestServer("openssl", "/usr/bin/openssl", arguments, log: dir.file("openssl.log"))
        tool.process.waitUntilExit()
        guard tool.process.terminationStatus == 0 else { throw ServerUnavailable("openssl failed: \(tool.log)") }
    }
}

/// A parsed message, as Python's `email` package sees it.
struct ParsedMail {
    let json: [String: Any]
    var headers: [String: [String]] { json["headers"] as? [String: [String]] ?? [:] }
    var rawHeaders: [String] { json["raw_headers"] as? [String] ?? [] }
    var parts: [[String: Any]] { json["parts"] as? [[String: Any]] ?? [] }
    func header(_ name: String) -> String? { headers[name.lowercased()]?.first }

    init(file: String, dir: TempDirectory) throws {
        let tool = try TestServer("parse_mail", python3, [Fixtures.script("parse_mail.py"), file], log: dir.file("parse.json"))
        tool.process.waitUntilExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.file("parse.json")))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ServerUnavailable("parse_mail.py printed no JSON: \(tool.log)")
        }
        json = object
    }
}

@Suite(.serialized) struct SMTPIntegrationTests {
    let user = "herald"
    let password = "s3cret-pass"

    /// Starts aiosmtpd with STARTTLS (or implicit TLS) and AUTH; returns it and its port.
    func startServer(_ dir: TempDirectory, implicitTLS: Bool = false) async throws -> (TestServer, Int) {
        try makeCertificates(in: dir)
        try dir.write("password", password)
        try FileManager.default.createDirectory(atPath: dir.file("mail"), withIntermediateDirectories: true)
        let server = try TestServer(
            "aiosmtpd", python3,
            [Fixtures.script("smtp_server.py"), dir.file("ready"), dir.file("mail"), dir.file("server.pem"),
             dir.file("server.key"), user, dir.file("password")] + (implicitTLS ? ["--implicit-tls"] : []),
            log: dir.file("smtp.log"))
        return (server, try await readyPort(dir.file("ready"), server: server))
    }

    func transport(_ port: Int, dir: TempDirectory, scheme: String = "smtp", password: String? = nil, ca: Bool = true) -> EmailTransport {
        EmailTransport(url: "\(scheme)://127.0.0.1:\(port)", username: user, password: password ?? self.password,
                       tls: TLSOptions(caFile: ca ? dir.file("ca.pem") : nil), timeout: .seconds(20), engine: sharedEngine)
    }

    func message(_ n: Int, to: String = "ann@example.org", text: String? = nil) -> EmailMessage {
        EmailMessage(
            from: Mailbox(parsing: "Café Zoë <news@shop.example>")!, to: Mailbox(parsing: "Ann Lee <\(to)>")!,
            subject: "Grüße #\(n) — 限时优惠 for you, a subject long enough to need folding at 78 characters",
            text: text ?? "Hello Ann,\nyour cart (#\(n)) is waiting. Prix spécial = 10 €.\n",
            html: "<p>Hello <b>Ann</b>, your cart #\(n) is waiting — 10&nbsp;€</p>", idempotencyKey: "winback:ann:\(n)",
            date: 1_795_432_530, unsubscribeURL: "https://herald.example/u/tok\(n)", unsubscribeMailto: "unsub@shop.example")
    }

    @Test func startTLSWithAuthDeliversParsableMIME() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir)
        defer { server.stop() }
        let smtp = transport(port, dir: dir)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 1...4 { group.addTask { try await smtp.send(message(n)).code } }
            for try await code in group { #expect(code == 250) }
        }
        for n in 1...4 {
            let mail = try ParsedMail(file: dir.file("mail/\(n).eml"), dir: dir)
            let subject = try #require(mail.header("Subject"))
            let k = Int(subject.split(separator: "#")[1].split(separator: " ")[0])!
            #expect(subject == "Grüße #\(k) — 限时优惠 for you, a subject long enough to need folding at 78 characters")
            #expect(mail.header("From") == "Café Zoë <news@shop.example>")
            #expect(mail.header("To") == "Ann Lee <ann@example.org>")
            #expect(mail.header("Message-ID") == MIMEBuilder.messageID(key: "winback:ann:\(k)", domain: "shop.example"))
            #expect(mail.header("List-Unsubscribe") == "<https://herald.example/u/tok\(k)>, <mailto:unsub@shop.example>")
            #expect(mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
            #expect(mail.header("Date") == "Mon, 23 Nov 2026 11:15:30 +0000")
            #expect(mail.json["type"] as? String == "multipart/alternative")
            #expect((mail.json["defects"] as? [Any])?.isEmpty == true)
            #expect(mail.rawHeaders.filter { !$0.hasPrefix("Message-ID:") }.allSatisfy { $0.utf8.count <= 78 })
            #expect(mail.parts.map { $0["type"] as? String } == ["text/plain", "text/html"])
            #expect((mail.parts[0]["content"] as? String)?.contains("Prix spécial = 10 €.") == true)
            #expect((mail.parts[1]["content"] as? String)?.contains("<b>Ann</b>") == true)
        }
        let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("mail/1.json")))) as? [String: Any]
        #expect(envelope?["from"] as? String == "news@shop.example")
        #expect(envelope?["to"] as? [String] == ["ann@example.org"])
    }

    @Test func smtpsWithImplicitTLS() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir, implicitTLS: true)
        defer { server.stop() }
        let reply = try await transport(port, dir: dir, scheme: "smtps").send(message(1, text: "您好，限时优惠今天结束。"))
        #expect(reply.code == 250)
        let mail = try ParsedMail(file: dir.file("mail/1.eml"), dir: dir)
        #expect(mail.parts.first?["encoding"] as? String == "base64")
        #expect((mail.parts.first?["content"] as? String)?.contains("您好，限时优惠今天结束。") == true)
    }

    @Test func wrongPasswordIsPermanentAndNotEchoed() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await transport(port, dir: dir, password: "wrong-pass-xyz").send(message(1))
        }
        #expect(error?.code == .loginDenied)
        #expect(error?.isRetryable == false)
        #expect(error.map { "\($0)" }?.contains("wrong-pass-xyz") == false)
    }

    @Test func unknownCAFailsVerification() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) { try await transport(port, dir: dir, ca: false).send(message(1)) }
        #expect(error?.code == .tlsFailed)
        #expect(error?.isRetryable == false)
    }

    @Test func recipientRejectionsAreClassified() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir)
        defer { server.stop() }
        let smtp = transport(port, dir: dir)
        let permanent = await #expect(throws: DeliveryError.self) { try await smtp.send(message(1, to: "reject-me@example.org")) }
        #expect(permanent?.code == .smtpRejected)
        #expect(permanent?.status == 550)
        #expect(permanent?.isRetryable == false)
        let transient = await #expect(throws: DeliveryError.self) { try await smtp.send(message(2, to: "later-me@example.org")) }
        #expect(transient?.status == 451)
        #expect(transient?.isRetryable == true)
    }

    @Test func plainSMTPRequiresStartTLSUnlessInsecure() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let port = freePort()
        try FileManager.default.createDirectory(atPath: dir.file("sink"), withIntermediateDirectories: true)
        // smtp-sink refuses to run as root without -u; `nobody` must be able to write the folder.
        chmod(dir.path, 0o755)
        chmod(dir.file("sink"), 0o777)
        let sink = try TestServer("smtp-sink", "/usr/sbin/smtp-sink",
                                  ["-u", "nobody", "-a", "-d", dir.file("sink/%Y%m%d%H%M%S."), "127.0.0.1:\(port)", "64"], log: dir.file("sink.log"))
        defer { sink.stop() }
        try await waitFor("smtp-sink never listened on \(port); log:\n\(sink.log)") { isListening(port) }
        let strict = EmailTransport(url: "smtp://127.0.0.1:\(port)", engine: sharedEngine)
        let error = await #expect(throws: DeliveryError.self) { try await strict.send(message(1)) }
        #expect(error?.code == .tlsFailed)
        let insecure = EmailTransport(url: "smtp://127.0.0.1:\(port)", insecure: true, engine: sharedEngine)
        #expect(try await insecure.send(message(2)).code == 250)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("sink"))
        #expect(files.count == 1)
    }
}
