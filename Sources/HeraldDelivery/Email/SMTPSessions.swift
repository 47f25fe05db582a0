import CCurl
import Foundation
import Logging
import Synchronization

/// SMTP delivery over long-lived, pipelined connections that libcurl opens.
///
/// libcurl makes each connection (TCP, the greeting, EHLO, STARTTLS or implicit TLS with peer verification, AUTH)
/// with `CURLOPT_CONNECT_ONLY`, on a short-lived connector thread. From then on one session thread owns every
/// connection and runs the transactions over `curl_easy_send`/`curl_easy_recv` (so through curl's TLS), with
/// PIPELINING where the server offers it. libcurl's own SMTP transfer blocks its multi thread until the server
/// answers the end of each message's data (`smtp_done`), which serialised every connection behind that one reply.
///
/// `@unchecked Sendable`: the mutable state is touched only by the session thread; the inbox is a Mutex.
final class SMTPSessions: @unchecked Sendable {
    /// What identifies a server and the login used on it: connections are shared only within one key.
    struct ServerKey: Hashable {
        var url: String
        var insecure: Bool
        var username: String?
        var password: String?
        var tls: TLSOptions

        init(_ request: SMTPRequest) {
            url = request.url
            insecure = request.insecure
            username = request.username
            password = request.password
            tls = request.tls
        }
    }

    private struct Submission {
        let transaction: SMTPTransaction
        let continuation: CheckedContinuation<SMTPReply, any Error>
    }

    private struct Connected {
        let key: ServerKey
        let result: Result<SMTPConnection, DeliveryError>
    }

    private struct Inbox {
        var submitted: [Submission] = []
        var connected: [Connected] = []
        var cancelled: Set<UInt64> = []
        var live: Set<UInt64> = []
        var nextID: UInt64 = 1
        var started = false
        var stopping = false
        var stopped = false
        var sleeping = false
    }

    /// A server's queue and connections. Session thread only.
    private final class Server {
        var queue: [SMTPTransaction] = []
        var connections: [SMTPConnection] = []
        var connecting = 0
        /// Until then at most one connection is open or being opened: the server refused one (it may allow only a
        /// few), and opening more for every queued message would flood it.
        var refusedUntil: ContinuousClock.Instant?
    }

    /// How long a refused connection keeps a server to one connection.
    static let refusalBackoff = Duration.seconds(10)

    private let inbox = Mutex(Inbox())
    private let wakeFD: Int32
    private let maxPerServer: Int
    private let idleTimeout: Duration
    private let logger: Logger
    // Owned by the session thread.
    private var servers: [ServerKey: Server] = [:]
    private var continuations: [UInt64: CheckedContinuation<SMTPReply, any Error>] = [:]
    /// Transactions whose callers were cancelled once they were on a connection: they finish there (the server may
    /// already have the message), but one that has to leave its connection is not sent again.
    private var cancelledInFlight: Set<UInt64> = []
    private var readBuffer = [UInt8](repeating: 0, count: 16_384)

    /// `maxPerServer` bounds the connections to one server; an idle connection is closed after `idleTimeout`.
    init(maxPerServer: Int, idleTimeout: Duration = .seconds(30), logger: Logger) {
        self.maxPerServer = max(1, maxPerServer)
        self.idleTimeout = idleTimeout
        self.logger = logger
        wakeFD = herald_eventfd()
    }

    deinit { close(wakeFD) }

    /// Runs one transaction; throws a `DeliveryError` unless the server accepted the message.
    func send(_ request: SMTPRequest) async throws -> SMTPReply {
        if let refused = Self.validate(request) { throw refused }
        let deadline = ContinuousClock.now + request.timeout
        let id: UInt64? = inbox.withLock { state in
            guard !state.stopping else { return nil }
            defer { state.nextID += 1 }
            state.live.insert(state.nextID)
            return state.nextID
        }
        guard let id else { throw Self.shutDown }
        startThreadOnce()
        let transaction = SMTPTransaction(id: id, request: request, deadline: deadline)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                var refusal = Self.shutDown
                let wake: Bool? = inbox.withLock { state in
                    guard !state.stopped else { return nil }
                    // Cancelled before it was queued: the session thread may already have taken (and dropped) that
                    // cancellation, so it must not be queued. Checked under the lock `onCancel` takes.
                    guard !Task.isCancelled else {
                        state.live.remove(id)
                        refusal = Self.cancelledError
                        return nil
                    }
                    state.submitted.append(Submission(transaction: transaction, continuation: continuation))
                    defer { state.sleeping = false }
                    return state.sleeping
                }
                switch wake {
                case true?: wakeUp()
                case false?: break
                case nil: continuation.resume(throwing: refusal)
                }
            }
        } onCancel: {
            let wake = inbox.withLock { state in state.live.contains(id) ? state.cancelled.insert(id).inserted : false }
            if wake { wakeUp() }
        }
    }

    /// Stops the thread: queued transactions fail with `cancelled`, connections are closed, later sends fail at once.
    func shutdown() {
        let running = inbox.withLock { state in
            state.stopping = true
            if !state.started { state.stopped = true }
            return state.started
        }
        if running { wakeUp() }
    }

    private static let shutDown = DeliveryError(.cancelled, "the delivery engine is shut down", isRetryable: true)
    private static let cancelledError = DeliveryError(.cancelled, "the transfer was cancelled", isRetryable: true)

    /// The error for a request refused before anything is sent.
    static func validate(_ request: SMTPRequest) -> DeliveryError? {
        guard request.url.hasPrefix("smtp://") || request.url.hasPrefix("smtps://") else {
            return DeliveryError(.invalidRequest, "only smtp:// and smtps:// URLs are allowed", isRetryable: false)
        }
        guard !request.recipients.isEmpty, ([request.mailFrom] + request.recipients).allSatisfy(SMTPRequest.isSafeAddress) else {
            return DeliveryError(.invalidRequest, "an envelope address is empty or contains CR, LF, '<', '>' or spaces",
                                 isRetryable: false)
        }
        return nil
    }

    private func wakeUp() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func startThreadOnce() {
        let start = inbox.withLock { state in
            defer { state.started = true }
            return !state.started && !state.stopping
        }
        guard start else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "herald-smtp"
        thread.start()
    }

    // MARK: - The session thread

    private func loop() {
        var finished: [(UInt64, Result<SMTPReply, DeliveryError>)] = []
        var polled: [pollfd] = []
        var polledConnections: [SMTPConnection] = []
        while true {
            let (submitted, connected, cancelled, stopping) = inbox.withLock { state in
                defer {
                    state.submitted.removeAll(keepingCapacity: true)
                    state.connected.removeAll(keepingCapacity: true)
                    state.cancelled.removeAll()
                }
                return (state.submitted, state.connected, state.cancelled, state.stopping)
            }
            for submission in submitted {
                continuations[submission.transaction.id] = submission.continuation
                server(submission.transaction.key).queue.append(submission.transaction)
            }
            for result in connected { accept(result, &finished) }
            if !cancelled.isEmpty {
                var queued: Set<UInt64> = []
                for server in servers.values {
                    server.queue.removeAll { tx in
                        guard cancelled.contains(tx.id) else { return false }
                        finished.append((tx.id, .failure(Self.cancelledError)))
                        queued.insert(tx.id)
                        return true
                    }
                }
                for id in cancelled where !queued.contains(id) && continuations[id] != nil { cancelledInFlight.insert(id) }
            }
            if stopping {
                stopAll(&finished)
                resume(&finished)
                break
            }
            let now = ContinuousClock.now
            expire(now, &finished)
            dispatch(now, &finished)
            resume(&finished)

            // Sleep until a socket is ready, a command arrives or the nearest deadline passes.
            let sleep = inbox.withLock { state in
                state.sleeping = state.submitted.isEmpty && state.connected.isEmpty && state.cancelled.isEmpty && !state.stopping
                return state.sleeping
            }
            polled.removeAll(keepingCapacity: true)
            polledConnections.removeAll(keepingCapacity: true)
            polled.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
            for server in servers.values {
                for connection in server.connections {
                    let events = Int16(POLLIN) | (connection.wantsWrite ? Int16(POLLOUT) : 0)
                    polled.append(pollfd(fd: connection.socket, events: events, revents: 0))
                    polledConnections.append(connection)
                }
            }
            let timeout = sleep ? nextWake(after: now) : 0
            _ = polled.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
            inbox.withLock { $0.sleeping = false }
            if polled[0].revents != 0 {
                var count: UInt64 = 0
                _ = read(wakeFD, &count, 8)
            }
            for (index, connection) in polledConnections.enumerated() {
                let revents = polled[index + 1].revents
                guard revents != 0, !connection.isClosed else { continue }
                if revents & Int16(POLLOUT) != 0, !connection.flush() {
                    lost(connection, "the connection failed while sending", &finished)
                    continue
                }
                if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 {
                    receive(connection, &finished)
                }
            }
            prune()
            // Yielding after resuming lets the callers queue their next messages before the thread decides to sleep.
            if !finished.isEmpty {
                resume(&finished)
                sched_yield()
            }
        }
        let (leftovers, connections) = inbox.withLock { state in
            state.stopped = true
            defer {
                state.submitted = []
                state.connected = []
            }
            return (state.submitted, state.connected)
        }
        for submission in leftovers { submission.continuation.resume(throwing: Self.shutDown) }
        for case .success(let connection) in connections.map(\.result) { connection.close(quit: true) }
    }

    private func server(_ key: ServerKey) -> Server {
        if let existing = servers[key] { return existing }
        let created = Server()
        servers[key] = created
        return created
    }

    /// Takes a connection from a connector thread, or fails the queue when none could be made and none is left.
    private func accept(_ connected: Connected, _ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        let server = server(connected.key)
        server.connecting -= 1
        switch connected.result {
        case .success(let connection):
            server.connections.append(connection)
        case .failure(let error):
            server.refusedUntil = ContinuousClock.now + Self.refusalBackoff
            logger.debug("SMTP connection failed", metadata: ["peer": "\(CurlTransfer.peer(connected.key.url))", "error": "\(error)"])
            if server.connections.isEmpty && server.connecting == 0 {
                for tx in server.queue { finished.append((tx.id, .failure(error))) }
                server.queue.removeAll()
            }
        }
    }

    /// Starts queued transactions on connections that can take them, opens connections for the rest, and sends.
    private func dispatch(_ now: ContinuousClock.Instant, _ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        for (key, server) in servers {
            for connection in server.connections {
                if server.queue.isEmpty { break }
                fill(connection, from: server, now)
            }
            let limit = server.refusedUntil.map { now < $0 } == true ? 1 : maxPerServer
            let room = limit - server.connections.count - server.connecting
            let wanted = min(room, server.queue.count - server.connecting)
            if wanted > 0 { for _ in 0..<wanted { openConnection(key, server) } }
            for connection in server.connections where !connection.pipeline.output.isEmpty && !connection.wantsWrite {
                if !connection.flush() { lost(connection, "the connection failed while sending", &finished) }
            }
        }
    }

    /// Starts queued transactions on `connection` while it can take them.
    private func fill(_ connection: SMTPConnection, from server: Server, _ now: ContinuousClock.Instant) {
        while !server.queue.isEmpty && !connection.isClosed && connection.pipeline.canStart {
            connection.pipeline.start(server.queue.removeFirst())
            connection.lastActive = now
        }
    }

    private func openConnection(_ key: ServerKey, _ server: Server) {
        server.connecting += 1
        let thread = Thread { [self] in
            let result = SMTPConnection.open(key)
            let wake: Bool? = inbox.withLock { state in
                guard !state.stopped else { return nil }
                state.connected.append(Connected(key: key, result: result))
                defer { state.sleeping = false }
                return state.sleeping
            }
            switch wake {
            case true?: wakeUp()
            case false?: break
            case nil: if case .success(let connection) = result { connection.close(quit: true) }  // the engine stopped meanwhile
            }
        }
        thread.name = "herald-smtp-connect"
        thread.start()
    }

    /// Reads what the server sent and hands each reply to the pipeline. Replies that arrived before the connection
    /// closed still count (a server may answer the end of data and hang up at once).
    private func receive(_ connection: SMTPConnection, _ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        var closed: String?
        while true {
            var n = 0
            let code = readBuffer.withUnsafeMutableBytes { raw in curl_easy_recv(connection.easy, raw.baseAddress, raw.count, &n) }
            if code == CURLE_AGAIN { break }
            guard code == CURLE_OK, n > 0 else {
                closed = code == CURLE_OK ? "the server closed the connection" : CurlTransfer.describe(code)
                break
            }
            readBuffer.withUnsafeBytes { raw in connection.parser.append(UnsafeRawBufferPointer(rebasing: raw[..<n])) }
        }
        do {
            while let reply = try connection.parser.next() {
                for (tx, outcome) in try connection.pipeline.receive(reply) {
                    finished.append((tx.id, outcome.map { SMTPReply(code: $0, reusedConnection: tx.reusedConnection) }
                        .mapError { refusal in
                            let what = "\(CurlTransfer.peer(connection.key.url)) answered SMTP \(refusal.reply.code) to \(refusal.command): \(refusal.reply.text)"
                            // The server wants a (different) login: every message would get the same answer.
                            if refusal.reply.isAuthFailure {
                                return DeliveryError(.loginDenied, what, isRetryable: false, status: refusal.reply.code)
                            }
                            return DeliveryError(.smtpRejected, what, isRetryable: refusal.reply.isTransient, status: refusal.reply.code)
                        }))
                }
            }
        } catch {
            lost(connection, "the server sent something that is not an SMTP reply", &finished)
            return
        }
        if let closed {
            lost(connection, closed, &finished)
            return
        }
        connection.lastActive = ContinuousClock.now
        // The next queued message's commands go in the same write as this one's data.
        if let server = servers[connection.key] { fill(connection, from: server, connection.lastActive) }
        if !connection.pipeline.output.isEmpty && !connection.wantsWrite && !connection.flush() {
            lost(connection, "the connection failed while sending", &finished)
        }
    }

    /// Closes a broken connection. A transaction whose message was never sent goes back to the queue (once); one
    /// whose message was (partly) sent fails as retryable, since the server may or may not have taken it.
    private func lost(_ connection: SMTPConnection, _ why: String, _ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        let peer = CurlTransfer.peer(connection.key.url)
        let server = server(connection.key)
        var requeue: [SMTPTransaction] = []
        for tx in connection.pipeline.abandon() {
            if cancelledInFlight.contains(tx.id) && !tx.bodySent {
                finished.append((tx.id, .failure(Self.cancelledError)))
            } else if !tx.bodySent && tx.requeues == 0 {
                tx.requeues += 1
                tx.rewind()
                requeue.append(tx)
            } else {
                finished.append((tx.id, .failure(DeliveryError(.connectionFailed, "\(peer): \(why)", isRetryable: true))))
            }
        }
        server.queue.insert(contentsOf: requeue, at: 0)
        connection.close(quit: false)
    }

    /// Fails what waited past its deadline; a connection holding such a transaction is closed, as its state is unknown.
    private func expire(_ now: ContinuousClock.Instant, _ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        for server in servers.values {
            server.queue.removeAll { tx in
                guard tx.deadline <= now else { return false }
                finished.append((tx.id, .failure(Self.timedOut(tx))))
                return true
            }
            for connection in server.connections where !connection.isClosed {
                guard connection.pipeline.inFlight.contains(where: { $0.deadline <= now }) else { continue }
                for tx in connection.pipeline.abandon() {
                    if tx.deadline <= now || tx.bodySent {
                        finished.append((tx.id, .failure(Self.timedOut(tx))))
                    } else if cancelledInFlight.contains(tx.id) {
                        finished.append((tx.id, .failure(Self.cancelledError)))
                    } else {
                        tx.rewind()
                        server.queue.insert(tx, at: 0)
                    }
                }
                connection.close(quit: false)
            }
            for connection in server.connections where !connection.isClosed && connection.pipeline.isIdle
                && now - connection.lastActive >= idleTimeout {
                connection.close(quit: true)
            }
        }
        prune()
        // A server with nothing queued, open or opening, and no refusal to remember, is forgotten: keys no longer
        // used (a changed password, a removed provider) do not pile up in a long-running daemon.
        func unused(_ server: Server) -> Bool {
            server.queue.isEmpty && server.connections.isEmpty && server.connecting == 0
                && (server.refusedUntil.map { $0 <= now } ?? true)
        }
        if servers.values.contains(where: unused) { servers = servers.filter { !unused($0.value) } }
    }

    private static func timedOut(_ tx: SMTPTransaction) -> DeliveryError {
        DeliveryError(.timedOut, "\(CurlTransfer.peer(tx.request.url)): no answer within \(tx.request.timeout)", isRetryable: true)
    }

    /// Drops closed connections.
    private func prune() {
        for server in servers.values where server.connections.contains(where: \.isClosed) {
            server.connections.removeAll { $0.isClosed }
        }
    }

    /// Milliseconds until the nearest deadline or idle expiry, at most one second.
    private func nextWake(after now: ContinuousClock.Instant) -> Int32 {
        var nearest = now + .seconds(1)
        for server in servers.values {
            for tx in server.queue where tx.deadline < nearest { nearest = tx.deadline }
            for connection in server.connections {
                for tx in connection.pipeline.inFlight where tx.deadline < nearest { nearest = tx.deadline }
                if connection.pipeline.isIdle && connection.lastActive + idleTimeout < nearest { nearest = connection.lastActive + idleTimeout }
            }
        }
        return Int32(max(0, min(1000, (nearest - now).milliseconds)))
    }

    private func stopAll(_ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        for server in servers.values {
            for tx in server.queue { finished.append((tx.id, .failure(Self.shutDown))) }
            server.queue = []
            for connection in server.connections {
                for tx in connection.pipeline.abandon() { finished.append((tx.id, .failure(Self.shutDown))) }
                connection.close(quit: true)
            }
            server.connections = []
        }
    }

    /// Resumes the callers of finished transactions; empties `finished`.
    private func resume(_ finished: inout [(UInt64, Result<SMTPReply, DeliveryError>)]) {
        guard !finished.isEmpty else { return }
        inbox.withLock { state in for (id, _) in finished { state.live.remove(id) } }
        if !cancelledInFlight.isEmpty { for (id, _) in finished { cancelledInFlight.remove(id) } }
        for (id, result) in finished {
            guard let continuation = continuations.removeValue(forKey: id) else { continue }
            continuation.resume(with: result.mapError { $0 as any Error })
        }
        finished.removeAll(keepingCapacity: true)
    }
}

/// One connection that libcurl opened and logged in; the session thread owns it after `open`.
final class SMTPConnection: @unchecked Sendable {
    let key: SMTPSessions.ServerKey
    let easy: UnsafeMutableRawPointer
    let socket: Int32
    var pipeline: SMTPPipeline
    var parser = SMTPReplyParser()
    var lastActive = ContinuousClock.now
    /// True while part of the output waits for the socket to take it.
    private(set) var wantsWrite = false
    private(set) var isClosed = false
    private var sent = 0

    private init(key: SMTPSessions.ServerKey, easy: UnsafeMutableRawPointer, socket: Int32, pipelining: Bool) {
        self.key = key
        self.easy = easy
        self.socket = socket
        pipeline = SMTPPipeline(pipelining: pipelining)
    }

    /// Sends what the pipeline has queued, as far as the socket takes it; false when the connection failed.
    func flush() -> Bool {
        while sent < pipeline.output.count {
            var n = 0
            let code = pipeline.output.withUnsafeBytes { raw in
                curl_easy_send(easy, raw.baseAddress! + sent, min(raw.count - sent, 16_384), &n)
            }
            if code == CURLE_AGAIN {
                wantsWrite = true
                return true
            }
            guard code == CURLE_OK else { return false }
            sent += n
        }
        pipeline.output.removeAll(keepingCapacity: true)
        sent = 0
        wantsWrite = false
        return true
    }

    /// Ends the connection; `quit` says goodbye first (best effort, without waiting for the answer).
    func close(quit: Bool) {
        guard !isClosed else { return }
        isClosed = true
        if quit {
            var n = 0
            _ = SMTPWire.quit.withUnsafeBytes { curl_easy_send(easy, $0.baseAddress, $0.count, &n) }
        }
        curl_easy_cleanup(easy)
    }

    /// Connects and logs in with libcurl (blocking: run it off the session thread).
    static func open(_ key: SMTPSessions.ServerKey) -> Result<SMTPConnection, DeliveryError> {
        let peer = CurlTransfer.peer(key.url)
        guard let easy = curl_easy_init() else {
            return .failure(DeliveryError(.transferFailed, "curl_easy_init failed", isRetryable: true))
        }
        let capabilities = Capabilities()
        var ok = true
        func long(_ option: CURLoption, _ value: Int) { ok = ok && herald_easy_setopt_long(easy, option, value) == CURLE_OK }
        func string(_ option: CURLoption, _ value: String) { ok = ok && herald_easy_setopt_string(easy, option, value) == CURLE_OK }
        string(CURLOPT_URL, key.url)
        string(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        if key.url.hasPrefix("smtp://") && !key.insecure { long(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        long(CURLOPT_CONNECT_ONLY, 1)
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_TCP_KEEPALIVE, 1)
        long(CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        long(CURLOPT_TIMEOUT_MS, 30_000)
        if let user = key.username {
            string(CURLOPT_USERNAME, user)
            string(CURLOPT_PASSWORD, key.password ?? "")
        }
        long(CURLOPT_SSL_VERIFYPEER, key.tls.verifyPeer ? 1 : 0)
        long(CURLOPT_SSL_VERIFYHOST, key.tls.verifyPeer ? 2 : 0)
        if let ca = key.tls.caFile { string(CURLOPT_CAINFO, ca) }
        // The server's EHLO lines reach the debug callback only; nothing is printed or logged.
        let box = Unmanaged.passRetained(capabilities)
        defer { box.release() }
        long(CURLOPT_VERBOSE, 1)
        ok = ok && herald_easy_setopt_debug(easy, readCapabilities) == CURLE_OK
        ok = ok && herald_easy_setopt_pointer(easy, CURLOPT_DEBUGDATA, box.toOpaque()) == CURLE_OK
        guard ok else {
            curl_easy_cleanup(easy)
            return .failure(DeliveryError(.invalidRequest, "libcurl refused an option", isRetryable: false))
        }
        let code = curl_easy_perform(easy)
        long(CURLOPT_VERBOSE, 0)
        var status = 0
        herald_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var socket: curl_socket_t = -1
        if code == CURLE_OK { herald_easy_getinfo_socket(easy, CURLINFO_ACTIVESOCKET, &socket) }
        guard code == CURLE_OK, socket >= 0 else {
            curl_easy_cleanup(easy)
            // libcurl reports any refused AUTH (454, 534, 535) as LOGIN_DENIED; 530 comes when no login was offered.
            if code == CURLE_LOGIN_DENIED || SMTPServerReply.isAuthFailure(code: status, text: "") {
                return .failure(DeliveryError(.loginDenied, "\(peer) refused the SMTP login (\(status))", isRetryable: false, status: status))
            }
            if (400..<600).contains(status) {
                return .failure(DeliveryError(.smtpRejected, "\(peer) answered SMTP \(status) (\(CurlTransfer.describe(code)))",
                                              isRetryable: status < 500, status: status))
            }
            return .failure(CurlTransfer.error(code == CURLE_OK ? CURLE_COULDNT_CONNECT : code, status: status == 0 ? nil : status, peer: peer))
        }
        return .success(SMTPConnection(key: key, easy: easy, socket: socket, pipelining: capabilities.pipelining))
    }

    /// What the server's EHLO offered, as seen by the debug callback during `open`.
    final class Capabilities {
        var pipelining = false
    }
}

/// CURLOPT_DEBUGFUNCTION during a connect: notes PIPELINING in the EHLO reply; a new greeting (or the STARTTLS
/// go-ahead) forgets what an earlier EHLO offered. Only server lines are looked at; nothing is kept or printed.
private let readCapabilities: herald_debug_callback = { _, type, data, size, userdata in
    guard type == CURLINFO_HEADER_IN, let data, let userdata else { return 0 }
    let capabilities = Unmanaged<SMTPConnection.Capabilities>.fromOpaque(userdata).takeUnretainedValue()
    let line = UnsafeRawBufferPointer(start: data, count: size)
    if line.starts(with: "220".utf8) { capabilities.pipelining = false }
    if line.count >= 14, line.starts(with: "250".utf8),
       String(decoding: line[4..<14], as: UTF8.self).uppercased() == "PIPELINING" {
        capabilities.pipelining = true
    }
    return 0
}
