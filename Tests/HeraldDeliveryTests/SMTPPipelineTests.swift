@testable import HeraldDelivery
import Testing

// MARK: - Helpers

private func feed(_ parser: inout SMTPReplyParser, _ text: String) {
    feed(&parser, Array(text.utf8))
}

private func feed(_ parser: inout SMTPReplyParser, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { parser.append($0) }
}

private func wire(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private func stuffed(_ text: String) -> String { wire(SMTPWire.dataSection(Array(text.utf8))) }

private let sender = "news@shop.example"
private let body = "Subject: hi\r\n\r\n.dot line\r\nHello\r\n"
/// What `body` looks like after `354`.
private let bodyOnWire = "Subject: hi\r\n\r\n..dot line\r\nHello\r\n.\r\n"

private func transaction(_ id: UInt64, to recipients: [String] = ["ann@example.org"], body: String = body) -> SMTPTransaction {
    SMTPTransaction(id: id, request: SMTPRequest(url: "smtp://127.0.0.1:2525", insecure: true, mailFrom: sender,
                                                 recipients: recipients, message: Array(body.utf8)),
                    deadline: .now + .seconds(60))
}

private func envelope(_ recipients: [String]) -> String {
    "MAIL FROM:<\(sender)>\r\n" + recipients.map { "RCPT TO:<\($0)>\r\n" }.joined() + "DATA\r\n"
}

private func reply(_ code: Int, _ text: String = "") -> SMTPServerReply { SMTPServerReply(code: code, text: text) }

/// The bytes the pipeline queued since the last drain, taken as the session thread does (read, then remove).
private func drain(_ pipeline: inout SMTPPipeline) -> String {
    let sent = wire(pipeline.output)
    pipeline.output.removeAll()
    return sent
}

/// Outcomes as `id:250` or `id:550 RCPT TO text`, so a whole step compares with one `#expect`.
private func outcomes(_ finished: [(SMTPTransaction, Result<Int, SMTPRefusal>)]) -> [String] {
    finished.map { tx, outcome in
        switch outcome {
        case .success(let code): "\(tx.id):\(code)"
        case .failure(let refusal): "\(tx.id):\(refusal.reply.code) \(refusal.command) \(refusal.reply.text)"
        }
    }
}

/// Feeds one reply and returns the outcomes it produced.
private func answer(_ pipeline: inout SMTPPipeline, _ code: Int, _ text: String = "") throws -> [String] {
    outcomes(try pipeline.receive(reply(code, text)))
}

// MARK: - The reply parser

extension SMTPPipelineTests {
    @Suite struct ReplyParser {
        @Test func multiLineReplySplitAcrossAppends() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250-mail.example greets you\r\n250-PIPE")
            #expect(try parser.next() == nil)
            feed(&parser, "LINING\r\n250-8BIT")
            #expect(try parser.next() == nil)
            feed(&parser, "MIME\r\n250 HELP\r\n")
            #expect(try parser.next() == reply(250))
            #expect(try parser.next() == nil)
        }

        @Test func severalRepliesInOneReadAndAReplyCutInTheMiddleOfItsCode() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 go ahead\r\n45")
            #expect(try parser.next()?.code == 250)
            #expect(try parser.next()?.code == 250)
            #expect(try parser.next() == reply(354))
            #expect(try parser.next() == nil)
            feed(&parser, "2 4.3.1 mailbox full\r\n")
            #expect(try parser.next() == reply(452, "4.3.1 mailbox full"))
            #expect(try parser.next() == nil)
            // After everything was consumed the buffer starts over; parsing goes on.
            feed(&parser, "221 bye\r\n")
            #expect(try parser.next()?.code == 221)
        }

        @Test func readsThatAlwaysEndInsideAReplyDoNotGrowTheBuffer() throws {
            var parser = SMTPReplyParser()
            var codes: [Int] = []
            feed(&parser, "25")
            for _ in 0..<5_000 {
                // Each read ends one reply and starts the next, so the buffer is never fully consumed.
                feed(&parser, "0 2.0.0 OK\r\n25")
                while let reply = try parser.next() { codes.append(reply.code) }
            }
            #expect(codes.count == 5_000)
            #expect(codes.allSatisfy { $0 == 250 })
            #expect(parser.buffered < 8_192)
        }

        @Test func bareLineFeedEndsALine() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "550-5.1.1 first line\n550 5.1.1 no such user\n250 OK\n")
            #expect(try parser.next() == reply(550, "5.1.1 no such user"))
            #expect(try parser.next() == reply(250))
            #expect(try parser.next() == nil)
        }

        @Test func aCodeAloneIsAReply() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250\r\n554\r\n")
            #expect(try parser.next() == reply(250))
            #expect(try parser.next() == reply(554))
        }

        @Test(arguments: ["hello there\r\n", "25\r\n", "250x OK\r\n", "2a0 OK\r\n", "\r\n", "250-ok\r\n25O oops\r\n"])
        func malformedLineThrows(_ input: String) {
            var parser = SMTPReplyParser()
            feed(&parser, input)
            #expect(throws: SMTPReplyParser.Malformed.self) { try parser.next() }
        }

        @Test func malformedLineIsReportedPrintable() {
            var parser = SMTPReplyParser()
            feed(&parser, Array("HTTP/1.1 400 Bad".utf8) + [0x00, 0xC3, 0xA9] + Array("\r\n".utf8))
            #expect(throws: SMTPReplyParser.Malformed(line: "HTTP/1.1 400 Bad???")) { try parser.next() }
        }

        @Test func overLongLineThrows() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250-" + String(repeating: "x", count: SMTPReplyParser.maxLine - 4))
            // Exactly maxLine bytes without an end yet: still waiting.
            #expect(try parser.next() == nil)
            feed(&parser, "x")
            #expect(throws: SMTPReplyParser.Malformed.self) { try parser.next() }
        }

        @Test func overLongLineAfterACompleteReplyThrows() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250 OK\r\n" + String(repeating: "2", count: SMTPReplyParser.maxLine + 1))
            #expect(try parser.next() == reply(250))
            #expect(throws: SMTPReplyParser.Malformed.self) { try parser.next() }
        }

        @Test func textIsKeptOnlyForRefusals() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "250 2.0.0 stored as 1234\r\n354 End data with <CR><LF>.<CR><LF>\r\n399 odd\r\n400 4.0.0 x\r\n"
                + "451 4.3.0 try again later\r\n550 5.1.1 caf\u{E9}\r\n")
            #expect(try parser.next() == reply(250, ""))
            #expect(try parser.next() == reply(354, ""))
            #expect(try parser.next() == reply(399, ""))
            #expect(try parser.next() == reply(400, "4.0.0 x"))
            #expect(try parser.next() == reply(451, "4.3.0 try again later"))
            // Non-ASCII bytes are shown as "?".
            #expect(try parser.next() == reply(550, "5.1.1 caf??"))
        }

        @Test func refusalTextIsCutTo200Characters() throws {
            var parser = SMTPReplyParser()
            feed(&parser, "554 " + String(repeating: "y", count: 300) + "\r\n")
            #expect(try parser.next() == reply(554, String(repeating: "y", count: 200)))
        }

        @Test func replyClassification() {
            #expect(reply(250).isPositive && reply(354).isPositive && !reply(451).isPositive && !reply(550).isPositive)
            #expect(reply(451).isTransient && reply(452).isTransient && !reply(550).isTransient && !reply(250).isTransient)
        }
    }
}

// MARK: - The data section

extension SMTPPipelineTests {
    @Suite struct Wire {
        @Test func leadingDotsAreDoubled() {
            #expect(stuffed(".hidden\r\n..two\r\nmid.dot.\r\n.\r\n") == "..hidden\r\n...two\r\nmid.dot.\r\n..\r\n.\r\n")
        }

        @Test func bareLineFeedsAndCarriageReturnsBecomeCRLF() {
            #expect(stuffed("a\nb\rc\r\nd") == "a\r\nb\r\nc\r\nd\r\n.\r\n")
            // CR CR LF is a bare CR and then a CRLF: two line ends.
            #expect(stuffed("a\r\r\nb\r\n") == "a\r\n\r\nb\r\n.\r\n")
            // A dot after a bare LF or CR starts a line too.
            #expect(stuffed("x\n.y\r.z\r\n") == "x\r\n..y\r\n..z\r\n.\r\n")
        }

        @Test func missingFinalLineEndIsAdded() {
            #expect(stuffed("Subject: x\r\n\r\nno newline") == "Subject: x\r\n\r\nno newline\r\n.\r\n")
            #expect(stuffed("ends well\r\n") == "ends well\r\n.\r\n")
            #expect(stuffed(".") == "..\r\n.\r\n")
        }

        @Test func terminatorEndsEveryMessage() {
            #expect(stuffed("") == ".\r\n")
            let section = SMTPWire.dataSection(Array("line\r\n".utf8))
            #expect(section.suffix(5) == Array("\r\n.\r\n".utf8))
            #expect(wire(SMTPWire.emptyData) == ".\r\n")
        }

        @Test func commands() {
            #expect(wire(SMTPWire.mail(from: "a@b.example")) == "MAIL FROM:<a@b.example>\r\n")
            #expect(wire(SMTPWire.rcpt(to: "c@d.example")) == "RCPT TO:<c@d.example>\r\n")
            #expect(wire(SMTPWire.data) == "DATA\r\n")
            #expect(wire(SMTPWire.reset) == "RSET\r\n")
            #expect(wire(SMTPWire.quit) == "QUIT\r\n")
        }

        @Test func transactionBuildsItsCommandsAndData() {
            let tx = transaction(1, to: ["a@x.example", "b@x.example"])
            #expect(tx.commandCount == 4)
            #expect((0..<tx.commandCount).map { wire(tx.command($0)) }.joined() == envelope(["a@x.example", "b@x.example"]))
            #expect(wire(tx.data) == bodyOnWire)
        }
    }
}

// MARK: - The pipeline

/// The SMTP wire format and the pipeline state machine, driven with scripted replies; `ReplyParser` and `Wire` are nested.
@Suite struct SMTPPipelineTests {
    @Test func pipelinedTransactionsOneRoundTripEach() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        #expect(pipeline.canStart && pipeline.isIdle)
        let first = transaction(1)
        let second = transaction(2, to: ["bob@example.org"], body: "Hi Bob")
        pipeline.start(first)
        #expect(first.reusedConnection == false)
        #expect(drain(&pipeline) == envelope(["ann@example.org"]))
        #expect(!pipeline.canStart && !pipeline.isIdle)
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(pipeline.output.isEmpty)
        #expect(!pipeline.canStart)
        #expect(try answer(&pipeline, 354) == [])
        #expect(first.bodySent)
        #expect(first.accepted == 1)
        // The go-ahead came: the next transaction may follow the data in the same write.
        #expect(pipeline.canStart && !pipeline.isIdle)
        pipeline.start(second)
        #expect(second.reusedConnection == true)
        #expect(drain(&pipeline) == bodyOnWire + envelope(["bob@example.org"]))
        #expect(pipeline.inFlight.map(\.id) == [1, 2])
        #expect(!pipeline.canStart)
        #expect(try answer(&pipeline, 250) == ["1:250"])
        #expect(pipeline.inFlight.map(\.id) == [2])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == "Hi Bob\r\n.\r\n")
        #expect(!pipeline.isIdle)
        #expect(try answer(&pipeline, 251) == ["2:251"])
        #expect(pipeline.isIdle && pipeline.canStart)
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.started == 2)
    }

    @Test func lockstepSendsOneCommandPerReply() throws {
        var pipeline = SMTPPipeline(pipelining: false)
        let first = transaction(1, to: ["a@x.example", "b@x.example"])
        pipeline.start(first)
        #expect(first.reusedConnection == false)
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
        #expect(!pipeline.canStart && !pipeline.isIdle)
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<a@x.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<b@x.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "DATA\r\n")
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == bodyOnWire)
        // Without PIPELINING nothing else starts before the end of data is answered.
        #expect(!pipeline.canStart && !pipeline.isIdle)
        #expect(try answer(&pipeline, 250) == ["1:250"])
        #expect(pipeline.isIdle && pipeline.canStart)
        #expect(first.accepted == 2)
        let second = transaction(2)
        pipeline.start(second)
        #expect(second.reusedConnection == true)
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
    }

    @Test(arguments: [551, 451])
    func pipelinedMailRefused(_ code: Int) throws {
        var pipeline = SMTPPipeline(pipelining: true)
        pipeline.start(transaction(1))
        #expect(drain(&pipeline) == envelope(["ann@example.org"]))
        #expect(try answer(&pipeline, code, "sender refused") == [])
        #expect(try answer(&pipeline, 503, "need MAIL") == [])
        #expect(try answer(&pipeline, 503, "need RCPT") == ["1:\(code) MAIL FROM sender refused"])
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.isIdle && pipeline.canStart)
        // The next transaction resets first, in the same write.
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "RSET\r\n" + envelope(["ann@example.org"]))
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == bodyOnWire)
        #expect(try answer(&pipeline, 250) == ["2:250"])
    }

    @Test(arguments: [551, 451])
    func lockstepMailRefused(_ code: Int) throws {
        var pipeline = SMTPPipeline(pipelining: false)
        pipeline.start(transaction(1))
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
        #expect(try answer(&pipeline, code, "sender refused") == ["1:\(code) MAIL FROM sender refused"])
        // No RCPT follows a refused MAIL.
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.isIdle && pipeline.canStart)
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "RSET\r\n")
        #expect(!pipeline.canStart && !pipeline.isIdle)
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<ann@example.org>\r\n")
    }

    @Test func pipelinedOneOfTwoRecipientsRefusedStillDelivers() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        let tx = transaction(1, to: ["gone@x.example", "ann@x.example"])
        pipeline.start(tx)
        #expect(drain(&pipeline) == envelope(["gone@x.example", "ann@x.example"]))
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == bodyOnWire)
        #expect(try answer(&pipeline, 250) == ["1:250"])
        #expect(tx.accepted == 1)
        // It was delivered: no RSET before the next one.
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == envelope(["ann@example.org"]))
    }

    @Test func lockstepOneOfTwoRecipientsRefusedStillDelivers() throws {
        var pipeline = SMTPPipeline(pipelining: false)
        pipeline.start(transaction(1, to: ["ann@x.example", "gone@x.example"]))
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<ann@x.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<gone@x.example>\r\n")
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == [])
        #expect(drain(&pipeline) == "DATA\r\n")
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == bodyOnWire)
        #expect(try answer(&pipeline, 250) == ["1:250"])
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
    }

    @Test func pipelinedAllRecipientsRefused() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        pipeline.start(transaction(1, to: ["a@x.example", "b@x.example"]))
        #expect(drain(&pipeline) == envelope(["a@x.example", "b@x.example"]))
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == [])
        #expect(try answer(&pipeline, 452, "4.2.2 mailbox full") == [])
        // The failure carries the (last) recipient's reply, not DATA's.
        #expect(try answer(&pipeline, 554, "5.5.1 no valid recipients") == ["1:452 RCPT TO 4.2.2 mailbox full"])
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.isIdle && pipeline.canStart)
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "RSET\r\n" + envelope(["ann@example.org"]))
    }

    @Test func lockstepAllRecipientsRefused() throws {
        var pipeline = SMTPPipeline(pipelining: false)
        pipeline.start(transaction(1, to: ["a@x.example", "b@x.example"]))
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "RCPT TO:<a@x.example>\r\n")
        #expect(try answer(&pipeline, 451, "4.3.0 try again later") == [])
        #expect(drain(&pipeline) == "RCPT TO:<b@x.example>\r\n")
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == ["1:550 RCPT TO 5.1.1 no such user"])
        // No DATA after the last recipient was refused.
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.isIdle)
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "RSET\r\n")
        #expect(try answer(&pipeline, 250) == [])
        #expect(drain(&pipeline) == "MAIL FROM:<news@shop.example>\r\n")
    }

    @Test func goAheadAfterRefusedRecipientsSendsAnEmptyMessage() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        let tx = transaction(1)
        pipeline.start(tx)
        _ = drain(&pipeline)
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == [])
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == ".\r\n")
        #expect(!tx.bodySent)
        // Whatever the server says to the empty message, the transaction failed with the recipient's reply.
        #expect(try answer(&pipeline, 250) == ["1:550 RCPT TO 5.1.1 no such user"])
        pipeline.start(transaction(2))
        #expect(drain(&pipeline) == "RSET\r\n" + envelope(["ann@example.org"]))
    }

    @Test func goAheadAfterRefusedSenderSendsAnEmptyMessage() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        pipeline.start(transaction(1))
        _ = drain(&pipeline)
        #expect(try answer(&pipeline, 553, "5.7.1 sender not allowed") == [])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 354) == [])
        #expect(drain(&pipeline) == ".\r\n")
        #expect(try answer(&pipeline, 554, "5.5.1 no transaction") == ["1:553 MAIL FROM 5.7.1 sender not allowed"])
    }

    @Test(arguments: [true, false])
    func endOfDataRefusedIsATransientFailure(pipelining: Bool) throws {
        var pipeline = SMTPPipeline(pipelining: pipelining)
        let tx = transaction(1)
        pipeline.start(tx)
        for code in [250, 250, 354] {
            _ = drain(&pipeline)
            #expect(try answer(&pipeline, code) == [])
        }
        #expect(drain(&pipeline) == bodyOnWire)
        let finished = try pipeline.receive(reply(452, "4.3.1 insufficient storage"))
        #expect(outcomes(finished) == ["1:452 end of data 4.3.1 insufficient storage"])
        guard case .failure(let refusal)? = finished.first?.1 else { Issue.record("not a failure"); return }
        #expect(refusal.reply.isTransient)
        #expect(tx.bodySent)
        // The message was sent, so the server closed that transaction itself: no RSET.
        pipeline.start(transaction(2))
        #expect(drain(&pipeline).hasPrefix("MAIL FROM:"))
    }

    @Test(arguments: [true, false])
    func dataRefusedWithoutGoAhead(pipelining: Bool) throws {
        var pipeline = SMTPPipeline(pipelining: pipelining)
        pipeline.start(transaction(1))
        for code in [250, 250] { #expect(try answer(&pipeline, code) == []) }
        #expect(try answer(&pipeline, 451, "4.3.0 local error") == ["1:451 DATA 4.3.0 local error"])
        #expect(pipeline.isIdle && pipeline.canStart)
        _ = drain(&pipeline)
        pipeline.start(transaction(2))
        #expect(drain(&pipeline).hasPrefix("RSET\r\n"))
    }

    @Test(arguments: [true, false])
    func replyNobodyAskedForThrows(pipelining: Bool) throws {
        var pipeline = SMTPPipeline(pipelining: pipelining)
        #expect(throws: SMTPPipeline.UnexpectedReply.self) { try pipeline.receive(reply(421, "closing")) }
        pipeline.start(transaction(1))
        for code in [250, 250, 354, 250] { _ = try pipeline.receive(reply(code)) }
        #expect(pipeline.isIdle)
        do throws(SMTPPipeline.UnexpectedReply) {
            _ = try pipeline.receive(reply(250, "one too many"))
            Issue.record("an extra reply was accepted")
        } catch {
            #expect(error.reply == reply(250, "one too many"))
        }
    }

    @Test(arguments: [true, false])
    func canStartAndIsIdleTransitions(pipelining: Bool) throws {
        var pipeline = SMTPPipeline(pipelining: pipelining)
        #expect(pipeline.canStart && pipeline.isIdle)
        pipeline.start(transaction(1))
        #expect(!pipeline.canStart && !pipeline.isIdle)
        _ = try pipeline.receive(reply(250))
        #expect(!pipeline.canStart && !pipeline.isIdle)
        _ = try pipeline.receive(reply(250))
        #expect(!pipeline.canStart && !pipeline.isIdle)
        _ = try pipeline.receive(reply(354))
        // Only with PIPELINING may the next transaction start while the end of data is unanswered.
        #expect(pipeline.canStart == pipelining)
        #expect(!pipeline.isIdle)
        _ = try pipeline.receive(reply(250))
        #expect(pipeline.canStart && pipeline.isIdle)
        #expect(pipeline.started == 1)
    }

    @Test func abandonReturnsTheTransactionsInFlight() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        let first = transaction(1)
        let second = transaction(2)
        pipeline.start(first)
        for code in [250, 250, 354] { _ = try pipeline.receive(reply(code)) }
        pipeline.start(second)
        #expect(!pipeline.output.isEmpty)
        let abandoned = pipeline.abandon()
        #expect(abandoned.map(\.id) == [1, 2])
        #expect(first.bodySent && !second.bodySent)
        #expect(pipeline.inFlight.isEmpty)
        #expect(pipeline.output.isEmpty)
        #expect(pipeline.isIdle && pipeline.canStart)
        #expect(throws: SMTPPipeline.UnexpectedReply.self) { try pipeline.receive(reply(250)) }
        #expect(pipeline.abandon().isEmpty)

        // Rewound, the unsent one starts from MAIL again on a new connection.
        second.rewind()
        #expect(second.commandsSent == 0 && second.accepted == 0 && second.refusal == nil)
        var fresh = SMTPPipeline(pipelining: true)
        fresh.start(second)
        #expect(second.reusedConnection == false)
        #expect(drain(&fresh) == envelope(["ann@example.org"]))
        for code in [250, 250, 354] { _ = try fresh.receive(reply(code)) }
        #expect(try answer(&fresh, 250) == ["2:250"])
    }

    @Test func abandonWhileWaitingForTheGoAheadLetsANewTransactionStart() throws {
        var pipeline = SMTPPipeline(pipelining: false)
        let tx = transaction(1)
        pipeline.start(tx)
        _ = try pipeline.receive(reply(250))
        #expect(!pipeline.canStart)
        #expect(pipeline.abandon().map(\.id) == [1])
        #expect(pipeline.canStart && pipeline.isIdle)
        #expect(tx.commandsSent == 2)
    }

    @Test func secondTransactionRefusedAfterAPipelinedFirstIsDelivered() throws {
        var pipeline = SMTPPipeline(pipelining: true)
        pipeline.start(transaction(1))
        #expect(drain(&pipeline) == envelope(["ann@example.org"]))
        for code in [250, 250, 354] { _ = try pipeline.receive(reply(code)) }
        pipeline.start(transaction(2, to: ["reject-me@x.example"]))
        #expect(drain(&pipeline) == bodyOnWire + envelope(["reject-me@x.example"]))
        #expect(try answer(&pipeline, 250) == ["1:250"])
        #expect(try answer(&pipeline, 250) == [])
        #expect(try answer(&pipeline, 550, "5.1.1 no such user") == [])
        #expect(try answer(&pipeline, 503, "5.5.1 need RCPT") == ["2:550 RCPT TO 5.1.1 no such user"])
        #expect(pipeline.isIdle)
        pipeline.start(transaction(3))
        #expect(drain(&pipeline) == "RSET\r\n" + envelope(["ann@example.org"]))
        #expect(try answer(&pipeline, 250) == [])
        for code in [250, 250, 354] { #expect(try answer(&pipeline, code) == []) }
        #expect(try answer(&pipeline, 250) == ["3:250"])
    }
}
