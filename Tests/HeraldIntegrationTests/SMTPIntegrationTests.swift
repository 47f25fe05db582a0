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

    /// Starts aiosmtpd with STARTTLS (or implicit TLS) and AUTH, offering PIPELINING when asked; returns it and its port.
    func startServer(_ dir: TempDirectory, implicitTLS: Bool = false, pipelining: Bool = false) async throws -> (TestServer, Int) {
        try makeCertificates(in: dir)
        try dir.write("password", password)
        try FileManager.default.createDirectory(atPath: dir.file("mail"), withIntermediateDirectories: true)
        let server = try TestServer(
            "aiosmtpd", python3,
            [Fixtures.script("smtp_server.py"), dir.file("ready"), dir.file("mail"), dir.file("server.pem"),
             dir.file("server.key"), user, dir.file("password")] + (implicitTLS ? ["--implicit-tls"] : []) + (pipelining ? ["--pipelining"] : []),
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

    /// How the client sent each MAIL command, as the server saw it: "pipelined" (its RCPT had arrived with it) or "alone".
    func mailLog(_ dir: TempDirectory) -> [String] {
        ((try? String(contentsOfFile: dir.file("mail.mail.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test(arguments: [false, true])
    func startTLSWithAuthDeliversParsableMIME(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir, pipelining: pipelining)
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
        #expect(mailLog(dir) == Array(repeating: pipelining ? "pipelined" : "alone", count: 4))
    }

    @Test(arguments: [false, true])
    func smtpsWithImplicitTLS(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir, implicitTLS: true, pipelining: pipelining)
        defer { server.stop() }
        let reply = try await transport(port, dir: dir, scheme: "smtps").send(message(1, text: "您好，限时优惠今天结束。"))
        #expect(reply.code == 250)
        let mail = try ParsedMail(file: dir.file("mail/1.eml"), dir: dir)
        #expect(mail.parts.first?["encoding"] as? String == "base64")
        #expect((mail.parts.first?["content"] as? String)?.contains("您好，限时优惠今天结束。") == true)
        #expect(mailLog(dir) == [pipelining ? "pipelined" : "alone"])
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

    @Test(arguments: [false, true])
    func recipientRejectionsAreClassified(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir, pipelining: pipelining)
        defer { server.stop() }
        let smtp = transport(port, dir: dir)
        let permanent = await #expect(throws: DeliveryError.self) { try await smtp.send(message(1, to: "reject-me@example.org")) }
        #expect(permanent?.code == .smtpRejected)
        #expect(permanent?.status == 550)
        #expect(permanent?.isRetryable == false)
        let transient = await #expect(throws: DeliveryError.self) { try await smtp.send(message(2, to: "later-me@example.org")) }
        #expect(transient?.status == 451)
        #expect(transient?.isRetryable == true)
        // The connection goes on after the refusals (RSET, then the next transaction).
        let reply = try await smtp.send(message(3))
        #expect(reply.code == 250)
        #expect(reply.reusedConnection)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("mail")).filter { $0.hasSuffix(".eml") } == ["1.eml"])
        #expect(mailLog(dir) == Array(repeating: pipelining ? "pipelined" : "alone", count: 3))
    }

    @Test func manyConcurrentMessagesThroughOnePipeliningServer() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startServer(dir, pipelining: true)
        defer { server.stop() }
        let smtp = transport(port, dir: dir)
        @Sendable func recipient(_ n: Int) -> String {
            switch n % 5 {
            case 0: "reject-\(n)@example.org"
            case 1: "later-\(n)@example.org"
            default: "user-\(n)@example.org"
            }
        }
        let results = await withTaskGroup(of: (Int, Result<SMTPReply, DeliveryError>).self) { group in
            for n in 1...50 {
                group.addTask {
                    do { return (n, .success(try await smtp.send(message(n, to: recipient(n))))) }
                    catch let error as DeliveryError { return (n, .failure(error)) }
                    catch { return (n, .failure(DeliveryError(.transferFailed, "\(error)", isRetryable: false))) }
                }
            }
            var results: [Int: Result<SMTPReply, DeliveryError>] = [:]
            for await (n, result) in group { results[n] = result }
            return results
        }
        #expect(results.count == 50)
        var accepted: Set<String> = []
        var replies: [SMTPReply] = []
        for n in 1...50 {
            switch (n % 5, results[n]) {
            case (0, .failure(let error)?):
                #expect(error.code == .smtpRejected && error.status == 550 && !error.isRetryable, "#\(n): \(error)")
            case (1, .failure(let error)?):
                #expect(error.code == .smtpRejected && error.status == 451 && error.isRetryable, "#\(n): \(error)")
            case (2..., .success(let reply)?):
                #expect(reply.code == 250, "#\(n)")
                accepted.insert(recipient(n))
                replies.append(reply)
            default:
                Issue.record("#\(n) to \(recipient(n)): \(String(describing: results[n]))")
            }
        }
        #expect(accepted.count == 30)
        // 50 transactions over at most a handful of connections: most of them reused one.
        #expect(replies.contains { $0.reusedConnection })
        // Exactly the accepted ones were stored, each once, with its own Message-ID.
        let stored = try FileManager.default.contentsOfDirectory(atPath: dir.file("mail")).filter { $0.hasSuffix(".json") }
        #expect(stored.count == 30)
        var storedRecipients: [String] = []
        var messageIDs: Set<String> = []
        for file in stored {
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("mail/\(file)")))) as? [String: Any]
            storedRecipients += envelope?["to"] as? [String] ?? []
            let eml = try String(contentsOfFile: dir.file("mail/\(file.dropLast(5)).eml"), encoding: .utf8)
            if let line = eml.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("Message-ID: ") }) {
                messageIDs.insert(String(line.dropFirst(12)))
            }
        }
        #expect(storedRecipients.count == 30)
        #expect(Set(storedRecipients) == accepted)
        let expectedIDs = Set((1...50).filter { $0 % 5 >= 2 }.map { MIMEBuilder.messageID(key: "winback:ann:\($0)", domain: "shop.example") })
        #expect(messageIDs == expectedIDs)
        // Every MAIL (refused envelopes included) came pipelined with its RCPT.
        let log = mailLog(dir)
        #expect(log.count == 50)
        #expect(log.allSatisfy { $0 == "pipelined" })
    }

    // MARK: - Faults a real server does not produce on cue (Tests/Fixtures/smtp_fault.py)

    /// Starts the scripted fault server in `mode`; returns it and its port.
    func startFaultServer(_ dir: TempDirectory, _ mode: String, pipelining: Bool) async throws -> (TestServer, Int) {
        let server = try TestServer("smtp_fault", python3,
                                    [Fixtures.script("smtp_fault.py"), dir.file("ready"), dir.path, mode] + (pipelining ? ["--pipelining"] : []),
                                    log: dir.file("fault.log"))
        return (server, try await readyPort(dir.file("ready"), server: server))
    }

    /// The fault server's events ("connect 1", "mail 1", "end 2", …).
    func events(_ dir: TempDirectory) -> [String] {
        ((try? String(contentsOfFile: dir.file("events.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func faultTransport(_ port: Int, timeout: Duration = .seconds(20)) -> EmailTransport {
        EmailTransport(url: "smtp://127.0.0.1:\(port)", insecure: true, timeout: timeout, engine: sharedEngine)
    }

    func storedMessages(_ dir: TempDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".eml") }
    }

    @Test(arguments: [true, false])
    func serverClosingRightAfterAcceptingDoesNotFailTheMessage(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-after-reply", pipelining: pipelining)
        defer { server.stop() }
        let smtp = faultTransport(port)
        // The 250 and the close arrive together; the reply counts, and the next message takes a new connection.
        #expect(try await smtp.send(message(1)).code == 250)
        #expect(try await smtp.send(message(2)).code == 250)
        #expect(events(dir) == ["connect 1", "mail 1", "end 1", "connect 2", "mail 2", "end 2"])
        #expect(try storedMessages(dir).sorted() == ["1.eml", "2.eml"])
    }

    @Test(arguments: [true, false])
    func largeMessagesAreSentWholeAndDotStuffed(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "deliver", pipelining: pipelining)
        defer { server.stop() }
        let smtp = faultTransport(port)
        // Several MB each, more than a socket buffer takes at once; lines that start with "." must come back unchanged.
        let lines = (0..<60_000).map { n in n % 7 == 0 ? ".line \(n) starts with a dot" : "line \(n) of a long message, padded to be longer" }
        let text = lines.joined(separator: "\n") + "\n.\n"
        let messages = (1...3).map { message($0, text: text) }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for m in messages { group.addTask { try await smtp.send(m).code } }
            for try await code in group { #expect(code == 250) }
        }
        let built = try Set(messages.map { try MIMEBuilder.build($0) })
        #expect(built.allSatisfy { $0.count > 2_000_000 })
        let stored = try Set(storedMessages(dir).map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file($0)))) })
        #expect(stored.count == 3)
        #expect(stored == built)
    }

    @Test(arguments: [true, false])
    func connectionLostBeforeTheMessageIsRequeued(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-on-first-mail", pipelining: pipelining)
        defer { server.stop() }
        let reply = try await faultTransport(port).send(message(1))
        #expect(reply.code == 250)
        // It went out on the second connection, as that one's first transaction.
        #expect(reply.reusedConnection == false)
        #expect(events(dir) == ["connect 1", "mail 1", "connect 2", "mail 2", "end 2"])
        #expect(try storedMessages(dir) == ["1.eml"])
    }

    @Test func connectionLostBeforeTheMessageIsRequeuedOnlyOnce() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-on-every-mail", pipelining: true)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) { try await faultTransport(port).send(message(1)) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
        #expect(events(dir) == ["connect 1", "mail 1", "connect 2", "mail 2"])
    }

    @Test(arguments: [true, false])
    func pooledConnectionLostWhenReusedIsReplaced(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-on-second-mail", pipelining: pipelining)
        defer { server.stop() }
        let smtp = faultTransport(port)
        #expect(try await smtp.send(message(1)).code == 250)
        // The pooled connection dies at the next MAIL: the message goes out on a new one.
        let second = try await smtp.send(message(2))
        #expect(second.code == 250)
        #expect(second.reusedConnection == false)
        #expect(events(dir) == ["connect 1", "mail 1", "end 1", "mail 1", "connect 2", "mail 2", "end 2"])
        #expect(try storedMessages(dir).sorted() == ["1.eml", "2.eml"])
    }

    @Test(arguments: [true, false])
    func garbageInsteadOfAReplyFailsTheConnection(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "garbage-on-mail", pipelining: pipelining)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) { try await faultTransport(port).send(message(1)) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
        #expect(error.map { "\($0)" }?.contains("not an SMTP reply") == true)
        // Nothing of the message was sent, so it was tried once more on a new connection.
        #expect(events(dir) == ["connect 1", "mail 1", "connect 2", "mail 2"])
        #expect(try storedMessages(dir).isEmpty)
    }

    @Test func sendFromACancelledTaskIsCancelledAndSendsNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "deliver", pipelining: true)
        defer { server.stop() }
        let smtp = faultTransport(port)
        // The cancellation reaches the session thread before the submission does: it must not be forgotten.
        for n in 1...100 {
            let task = Task { () async throws -> SMTPReply in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await smtp.send(message(n))
            }
            let error = await #expect(throws: DeliveryError.self, "#\(n)") { try await task.value }
            #expect(error?.code == .cancelled, "#\(n)")
        }
        // The engine still works for a task that is not cancelled, and that was the only message sent.
        #expect(try await smtp.send(message(101)).code == 250)
        #expect(events(dir).filter { $0.hasPrefix("mail") }.count == 1)
    }

    @Test func cancellingAQueuedSendCancelsIt() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "silent", pipelining: false)
        defer { server.stop() }
        let smtp = faultTransport(port)
        let task = Task { try await smtp.send(message(1)) }
        // Queued while its connection waits for a greeting that never comes.
        try await waitFor("no connection came") { events(dir) == ["connect 1"] }
        task.cancel()
        let error = await #expect(throws: DeliveryError.self) { try await task.value }
        #expect(error?.code == .cancelled)
    }

    @Test(arguments: [true, false])
    func cancelledSendLosingItsConnectionIsNotSentAgain(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "hold-first-mail", pipelining: pipelining)
        defer { server.stop() }
        let smtp = faultTransport(port)
        let task = Task { try await smtp.send(message(1)) }
        // On its connection, MAIL sent and unanswered; then the caller gives up, and then the connection is lost.
        // Before the message's data went out it would be sent again on a new connection; a cancelled one is not.
        try await waitFor("MAIL never came") { events(dir) == ["connect 1", "mail 1"] }
        task.cancel()
        #expect(kill(server.pid, SIGUSR1) == 0)
        let error = await #expect(throws: DeliveryError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        // The server goes on working, and only the later message reached it.
        #expect(try await smtp.send(message(2)).code == 250)
        #expect(try storedMessages(dir) == ["1.eml"])
        #expect(try ParsedMail(file: dir.file("1.eml"), dir: dir).header("Subject") == message(2).subject)
        #expect(events(dir).filter { $0.hasPrefix("mail") }.count == 2)
    }

    @Test func shutdownFailsQueuedSendsAndRefusesLaterOnes() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "silent", pipelining: false)
        defer { server.stop() }
        let engine = CurlEngine()
        let smtp = EmailTransport(url: "smtp://127.0.0.1:\(port)", insecure: true, timeout: .seconds(20), engine: engine)
        let task = Task { try await smtp.send(message(1)) }
        try await waitFor("no connection came") { events(dir) == ["connect 1"] }
        engine.shutdown()
        let queued = await #expect(throws: DeliveryError.self) { try await task.value }
        #expect(queued?.code == .cancelled)
        #expect(queued?.isRetryable == true)
        let later = await #expect(throws: DeliveryError.self) { try await smtp.send(message(2)) }
        #expect(later?.code == .cancelled)
    }

    @Test(arguments: [true, false])
    func connectionsPerServerAreBounded(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "deliver", pipelining: pipelining)
        defer { server.stop() }
        let engine = CurlEngine(maxPerHost: 2)
        defer { engine.shutdown() }
        let smtp = EmailTransport(url: "smtp://127.0.0.1:\(port)", insecure: true, timeout: .seconds(20), engine: engine)
        let replies = try await withThrowingTaskGroup(of: SMTPReply.self) { group in
            for n in 1...12 { group.addTask { try await smtp.send(message(n)) } }
            return try await group.reduce(into: [SMTPReply]()) { $0.append($1) }
        }
        #expect(replies.count == 12)
        #expect(replies.allSatisfy { $0.code == 250 })
        // At most two connections carried the twelve: at least ten went over one that had carried one before.
        #expect(replies.filter(\.reusedConnection).count >= 10)
        let log = events(dir)
        #expect((1...2).contains(log.filter { $0.hasPrefix("connect") }.count), "\(log)")
        #expect(log.filter { $0.hasPrefix("end") }.count == 12)
        #expect(try storedMessages(dir).count == 12)
    }

    @Test func serverAcceptingOneConnectionIsNotFlooded() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "busy-after-first", pipelining: true)
        defer { server.stop() }
        let smtp = faultTransport(port)
        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 1...10 { group.addTask { try await smtp.send(message(n)).code } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // All went through the one connection it accepts ...
        #expect(codes == Array(repeating: 250, count: 10))
        #expect(try storedMessages(dir).count == 10)
        let log = events(dir)
        #expect(log.filter { $0.hasPrefix("mail") } == Array(repeating: "mail 1", count: 10))
        // ... and the refusals did not make it open another one for every message and reply (it made 1,100+).
        #expect(log.filter { $0.hasPrefix("connect") }.count <= 10, "\(log.count) events")
    }

    @Test func serverThatNeverGreetsTimesOut() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "silent", pipelining: false)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await faultTransport(port, timeout: .seconds(2)).send(message(1))
        }
        #expect(error?.code == .timedOut)
        #expect(error?.isRetryable == true)
        #expect(events(dir) == ["connect 1"])
    }

    @Test(arguments: [true, false])
    func connectionLostAfterTheEndOfDataIsARetryableConnectionFailure(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-after-data", pipelining: pipelining)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) { try await faultTransport(port).send(message(1)) }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
        // The server may have taken it: not sent again.
        #expect(events(dir) == ["connect 1", "mail 1", "end 1"])
    }

    @Test(arguments: [true, false])
    func lostConnectionFailsOnlyTheMessageThatWasSent(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "close-after-first-data", pipelining: pipelining)
        defer { server.stop() }
        // One connection per server: the second message waits for the first, or (PIPELINING) follows its data.
        let engine = CurlEngine(maxPerHost: 1)
        defer { engine.shutdown() }
        let smtp = EmailTransport(url: "smtp://127.0.0.1:\(port)", insecure: true, timeout: .seconds(20), engine: engine)
        let results = await withTaskGroup(of: Result<SMTPReply, DeliveryError>.self) { group in
            for n in 1...2 {
                group.addTask {
                    do { return .success(try await smtp.send(message(n))) }
                    catch let error as DeliveryError { return .failure(error) }
                    catch { return .failure(DeliveryError(.transferFailed, "\(error)", isRetryable: false)) }
                }
            }
            return await group.reduce(into: [Result<SMTPReply, DeliveryError>]()) { $0.append($1) }
        }
        let failures = results.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        let replies = results.compactMap { try? $0.get() }
        #expect(failures.map(\.code) == [.connectionFailed])
        #expect(failures.first?.isRetryable == true)
        #expect(replies.map(\.code) == [250])
        let log = events(dir)
        #expect(log.prefix(3) == ["connect 1", "mail 1", "end 1"], "\(log)")
        #expect(log.suffix(3) == ["connect 2", "mail 2", "end 2"], "\(log)")
        #expect(try storedMessages(dir) == ["1.eml"])
    }

    @Test(arguments: [true, false])
    func noAnswerToTheEndOfDataTimesOut(pipelining: Bool) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, port) = try await startFaultServer(dir, "stall-after-data", pipelining: pipelining)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await faultTransport(port, timeout: .seconds(2)).send(message(1))
        }
        #expect(error?.code == .timedOut)
        #expect(error?.isRetryable == true)
        #expect(events(dir) == ["connect 1", "mail 1", "end 1"])
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
