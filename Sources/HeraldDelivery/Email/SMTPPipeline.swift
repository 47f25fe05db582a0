/// One message's SMTP transaction while a connection carries it. `@unchecked Sendable`: the caller hands it to the
/// session thread once, and only that thread touches it afterwards.
final class SMTPTransaction: @unchecked Sendable {
    let id: UInt64
    let request: SMTPRequest
    /// The server and login it goes through.
    let key: SMTPSessions.ServerKey
    /// `MAIL FROM`, each `RCPT TO`, then `DATA`, built by the caller rather than the session thread.
    private let commands: [[UInt8]]
    /// The dot-stuffed message with its terminating `.` line.
    let data: [UInt8]
    let deadline: ContinuousClock.Instant
    /// Recipients the server accepted so far.
    var accepted = 0
    /// The reply that failed the transaction, and to which command.
    var refusal: SMTPRefusal?
    /// The last refused recipient: the transaction's failure when no recipient is accepted.
    var recipientRefusal: SMTPRefusal?
    /// The commands sent so far (without PIPELINING they go one at a time).
    var commandsSent = 0
    /// True once any of the message was sent: from then on a lost connection may have delivered it.
    var bodySent = false
    /// True when it was started on a connection that had carried a transaction before.
    var reusedConnection = false
    /// How often a lost connection put it back in the queue before its message was sent.
    var requeues = 0

    init(id: UInt64, request: SMTPRequest, deadline: ContinuousClock.Instant) {
        self.id = id
        self.request = request
        key = SMTPSessions.ServerKey(request)
        commands = [SMTPWire.mail(from: request.mailFrom)] + request.recipients.map(SMTPWire.rcpt(to:)) + [SMTPWire.data]
        data = SMTPWire.dataSection(request.message)
        self.deadline = deadline
    }

    /// Forgets the progress of an attempt whose connection was lost before the message was sent.
    func rewind() {
        commandsSent = 0
        accepted = 0
        refusal = nil
        recipientRefusal = nil
    }

    /// `MAIL FROM`, each `RCPT TO`, then `DATA`.
    var commandCount: Int { commands.count }

    func command(_ index: Int) -> [UInt8] { commands[index] }
}

/// A server reply that refused a transaction, with the command it answered.
struct SMTPRefusal: Error, Equatable {
    var reply: SMTPServerReply
    var command: String
}

/// The client side of one SMTP connection after the greeting, EHLO, STARTTLS and AUTH: it turns transactions into
/// commands and replies into results. No I/O; the session thread sends `output` and feeds back what it reads.
///
/// With PIPELINING (RFC 2920) `MAIL`, every `RCPT` and `DATA` go in one write, and the next transaction's commands
/// follow the previous message's data in the same write, so a message costs one round trip; without it each command
/// waits for the reply to the one before, as RFC 5321 requires.
struct SMTPPipeline {
    enum Expectation {
        case mail(SMTPTransaction)
        case recipient(SMTPTransaction)
        case data(SMTPTransaction)
        case end(SMTPTransaction)
        /// The reply to `RSET`; without PIPELINING the transaction to go on with afterwards.
        case reset(SMTPTransaction?)
    }

    /// A reply arrived that no command asked for.
    struct UnexpectedReply: Error {
        let reply: SMTPServerReply
    }

    let pipelining: Bool
    /// Bytes to send; the session thread removes what it has sent.
    var output: [UInt8] = []
    private var expected: [Expectation] = []
    private var head = 0
    /// Transactions started and not finished, oldest first.
    private(set) var inFlight: [SMTPTransaction] = []
    /// True while `DATA` waits for its `354`: nothing else may be sent until it comes.
    private var awaitingGoAhead = false
    /// A transaction ended before its data: the server may hold its envelope, so `RSET` goes before the next.
    private var needsReset = false
    /// Transactions this connection has started.
    private(set) var started = 0

    init(pipelining: Bool) {
        self.pipelining = pipelining
    }

    /// True when a transaction can be started now.
    var canStart: Bool {
        pipelining ? !awaitingGoAhead && inFlight.count < 2 : inFlight.isEmpty && head == expected.count
    }

    /// True when nothing is in flight and no reply is awaited.
    var isIdle: Bool { inFlight.isEmpty && head == expected.count }

    /// Starts `transaction`; call only when `canStart`.
    mutating func start(_ transaction: SMTPTransaction) {
        transaction.reusedConnection = started > 0
        started += 1
        inFlight.append(transaction)
        if needsReset {
            needsReset = false
            output += SMTPWire.reset
            expected.append(.reset(pipelining ? nil : transaction))
            if !pipelining { return }
        }
        if pipelining {
            while transaction.commandsSent < transaction.commandCount { sendNext(transaction) }
        } else {
            sendNext(transaction)
        }
    }

    /// Handles one reply; returns the transactions it finished with their outcome (the server's final code, or the
    /// refusal). Throws when no command awaited a reply.
    mutating func receive(_ reply: SMTPServerReply) throws(UnexpectedReply) -> [(SMTPTransaction, Result<Int, SMTPRefusal>)] {
        guard head < expected.count else { throw UnexpectedReply(reply: reply) }
        let expectation = expected[head]
        head += 1
        if head == expected.count {
            expected.removeAll(keepingCapacity: true)
            head = 0
        }
        var finished: [(SMTPTransaction, Result<Int, SMTPRefusal>)] = []
        switch expectation {
        case .reset(let next):
            if let next { sendNext(next) }
        case .mail(let tx):
            if !reply.isPositive { tx.refusal = SMTPRefusal(reply: reply, command: "MAIL FROM") }
            if !pipelining {
                if let refusal = tx.refusal { finish(tx, .failure(refusal), into: &finished) } else { sendNext(tx) }
            }
        case .recipient(let tx):
            if reply.isPositive {
                tx.accepted += 1
            } else {
                tx.recipientRefusal = SMTPRefusal(reply: reply, command: "RCPT TO")
            }
            if !pipelining {
                let last = tx.commandsSent == tx.commandCount - 1
                if last && tx.accepted == 0, let refusal = tx.recipientRefusal {
                    finish(tx, .failure(refusal), into: &finished)
                } else {
                    sendNext(tx)
                }
            }
        case .data(let tx):
            awaitingGoAhead = false
            if tx.refusal == nil && tx.accepted == 0 { tx.refusal = tx.recipientRefusal }
            if reply.code == 354 {
                // A server may answer 354 even though it refused the envelope; an empty message ends the data then.
                if tx.refusal == nil {
                    output += tx.data
                    tx.bodySent = true
                } else {
                    output += SMTPWire.emptyData
                }
                expected.append(.end(tx))
            } else {
                finish(tx, .failure(tx.refusal ?? SMTPRefusal(reply: reply, command: "DATA")), into: &finished)
            }
        case .end(let tx):
            if let refusal = tx.refusal {
                finish(tx, .failure(refusal), into: &finished)
            } else if (200..<300).contains(reply.code) {
                finish(tx, .success(reply.code), into: &finished)
            } else {
                finish(tx, .failure(SMTPRefusal(reply: reply, command: "end of data")), into: &finished)
            }
        }
        return finished
    }

    /// Forgets every transaction in flight (the connection is gone) and returns them, oldest first.
    mutating func abandon() -> [SMTPTransaction] {
        defer {
            inFlight = []
            expected = []
            head = 0
            output = []
            awaitingGoAhead = false
        }
        return inFlight
    }

    private mutating func sendNext(_ tx: SMTPTransaction) {
        let index = tx.commandsSent
        tx.commandsSent += 1
        output += tx.command(index)
        switch index {
        case 0: expected.append(.mail(tx))
        case tx.commandCount - 1:
            expected.append(.data(tx))
            awaitingGoAhead = true
        default: expected.append(.recipient(tx))
        }
    }

    private mutating func finish(_ tx: SMTPTransaction, _ outcome: Result<Int, SMTPRefusal>,
                                 into finished: inout [(SMTPTransaction, Result<Int, SMTPRefusal>)]) {
        inFlight.removeAll { $0 === tx }
        // Ended before its data: the server may still hold the envelope.
        if !tx.bodySent, case .failure = outcome { needsReset = true }
        finished.append((tx, outcome))
    }
}
