import CCurl
import Foundation
import Logging
import Synchronization

/// One curl thread: it owns a multi handle and every easy handle of its transfers; callers `await` results.
///
/// Many transfers run at once, connections are cached and reused, HTTP/2 is used where a TLS peer offers it, and a
/// cancelled task's transfer is removed. (`curl_multi_socket_action` over epoll was tried: it kept libcurl's two
/// polls per transfer, added an epoll_ctl per transfer, and measured ~15% slower here than perform + poll.)
/// `@unchecked Sendable`: the mutable curl state is touched only by the worker's own thread; the inbox is a Mutex.
final class CurlWorker: @unchecked Sendable {
    private enum Command {
        case add(UInt64, CurlJob, CheckedContinuation<CurlOutcome, any Error>)
    }

    /// Transfers done (or refused) in one round of the curl thread, with what their callers are to be resumed with.
    private typealias Finished = [(UInt64, CheckedContinuation<CurlOutcome, any Error>, Result<CurlOutcome, DeliveryError>)]

    private struct Inbox {
        var commands: [Command] = []
        var cancelled: Set<UInt64> = []
        var live: Set<UInt64> = []
        var nextID: UInt64 = 1
        var stopping = false
        var stopped = false
        /// True while the curl thread is in (or about to enter) `curl_multi_poll`: only then does a new command need a wakeup.
        var sleeping = false
    }

    private let inbox = Mutex(Inbox())
    private let inFlightCount = Atomic<Int>(0)
    private let multi: UnsafeMutableRawPointer
    private let logger: Logger
    // Owned by the curl thread from here on.
    private var running: [UInt64: CurlTransfer] = [:]
    private var idle: [UnsafeMutableRawPointer] = []
    private let maxPerHost: Int
    private var hosts: [String: Host] = [:]

    /// A request that waits for one of its host's `maxPerHost` transfers to finish. The worker queues these itself:
    /// libcurl's queue for CURLMOPT_MAX_HOST_CONNECTIONS (7.88) moves one waiting transfer on at a time and was seen to
    /// leave some waiting until the next poll timeout, a second later.
    private struct Waiting {
        let id: UInt64
        let job: CurlJob
        let continuation: CheckedContinuation<CurlOutcome, any Error>
        let since: ContinuousClock.Instant
    }

    /// One host's transfers in flight and its queue. Curl thread only.
    private final class Host {
        var active = 0
        var waiting: [Waiting] = []
        var head = 0
    }

    /// Starts a thread; `maxConnections` bounds its connection cache, `maxPerHost` its transfers in flight to one host,
    /// and so its connections there (0: no limit); `maxStreams` the streams it opens on one HTTP/2 connection.
    init(name: String, maxConnections: Int, maxPerHost: Int, maxStreams: Int = 100, logger: Logger) {
        multi = curl_multi_init()
        self.logger = logger
        herald_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        self.maxPerHost = max(0, maxPerHost)
        herald_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        // Past this many streams libcurl opens a new connection for every further transfer instead of waiting.
        herald_multi_setopt_long(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, max(1, maxStreams))
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Sends an HTTP request; any complete response is returned, whatever its status.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        inFlightCount.wrappingAdd(1, ordering: .relaxed)
        defer { inFlightCount.wrappingSubtract(1, ordering: .relaxed) }
        guard case .http(let response) = try await perform(try CurlJob.prepare(request).get()) else {
            fatalError("engine answered with the wrong kind")
        }
        return response
    }

    /// Stops the thread: transfers in flight fail with `cancelled`, later sends fail at once.
    func shutdown() {
        inbox.withLock { $0.stopping = true }
        wakeUp()
    }

    /// The number of transfers submitted and not yet finished.
    var inFlight: Int { inbox.withLock { $0.live.count } }

    /// The number of requests sent to this worker and not yet answered (a cheap, lock-free reading for balancing).
    var load: Int { inFlightCount.load(ordering: .relaxed) }

    private func perform(_ job: CurlJob) async throws -> CurlOutcome {
        let id: UInt64? = inbox.withLock { state in
            guard !state.stopping else { return nil }
            defer { state.nextID += 1 }
            state.live.insert(state.nextID)
            return state.nextID
        }
        guard let id else { throw DeliveryError(.cancelled, "the delivery engine is shut down", isRetryable: true) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // nil: refused; true: the curl thread sleeps and must be woken; false: it will drain the inbox anyway.
                let wake: Bool? = inbox.withLock { state in
                    guard !state.stopped else { return nil }
                    state.commands.append(.add(id, job, continuation))
                    defer { state.sleeping = false }
                    return state.sleeping
                }
                switch wake {
                case true?: wakeUp()
                case false?: break
                case nil: continuation.resume(throwing: DeliveryError(.cancelled, "the delivery engine is shut down", isRetryable: true))
                }
            }
        } onCancel: {
            let wake = inbox.withLock { state in state.live.contains(id) ? state.cancelled.insert(id).inserted : false }
            if wake { wakeUp() }
        }
    }

    // MARK: - The curl thread

    private func loop() {
        var stillRunning: Int32 = 0
        var finished: Finished = []
        finished.reserveCapacity(256)
        var commands: [Command] = []
        commands.reserveCapacity(256)
        while true {
            // The inbox is swapped with an emptied array of the same capacity, so draining it allocates nothing.
            let (cancelled, stopping) = inbox.withLock { state in
                swap(&commands, &state.commands)
                return (state.cancelled, state.stopping)
            }
            for case .add(let id, let job, let continuation) in commands {
                if stopping || cancelled.contains(id) {
                    finished.append((id, continuation, .failure(Self.cancelledError)))
                } else {
                    admit(id, job, continuation, &finished)
                }
            }
            commands.removeAll(keepingCapacity: true)
            for id in cancelled {
                if let transfer = running[id] {
                    complete(transfer, .failure(Self.cancelledError), &finished)
                } else {
                    dropWaiting(id, &finished)
                }
            }
            if stopping {
                for host in hosts.values {
                    for waiting in host.waiting[host.head...] { finished.append((waiting.id, waiting.continuation, .failure(Self.cancelledError))) }
                    host.waiting = []
                    host.head = 0
                }
                for transfer in Array(running.values) { complete(transfer, .failure(Self.cancelledError), &finished) }
                resume(&finished)
                break
            }
            let nextExpiry = hosts.isEmpty ? nil : expireWaiting(&finished)
            curl_multi_perform(multi, &stillRunning)
            drainMessages(&finished)
            // Every transfer finished in this round is resumed at once, after one pass over the inbox lock;
            // yielding then lets the resumed callers queue their next requests before the thread decides to sleep.
            if !finished.isEmpty {
                resume(&finished)
                sched_yield()
            }
            // Sleep only when no command arrived meanwhile; a sender that finds `sleeping` set wakes the poll.
            let asleep = inbox.withLock { state in
                state.sleeping = state.commands.isEmpty && state.cancelled.isEmpty && !state.stopping
                return state.sleeping
            }
            if asleep {
                var timeout: Int32 = 1000
                if let nextExpiry {
                    let left = nextExpiry - .now
                    timeout = left <= .zero ? 0 : min(1000, Int32(left.milliseconds))
                }
                curl_multi_poll(multi, nil, 0, timeout, nil)
                inbox.withLock { $0.sleeping = false }
            }
        }
        // Commands that raced with shutdown are failed here; later ones are refused at once.
        let leftovers = inbox.withLock { state in
            state.stopped = true
            defer { state.commands = [] }
            return state.commands
        }
        for case .add(let id, _, let continuation) in leftovers { finished.append((id, continuation, .failure(Self.cancelledError))) }
        resume(&finished)
        for easy in idle { curl_easy_cleanup(easy) }
        idle = []
    }

    /// Completes every transfer curl reports done.
    private func drainMessages(_ finished: inout Finished) {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard herald_msg_kind(message) == CURLMSG_DONE, let easy = herald_msg_easy(message) else { continue }
            var raw: UnsafeMutablePointer<CChar>? = nil
            herald_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &raw)
            guard let raw else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(UnsafeMutableRawPointer(raw)).takeUnretainedValue()
            complete(transfer, transfer.outcome(herald_msg_result(message)), &finished)
        }
    }

    private func wakeUp() { curl_multi_wakeup(multi) }

    // The thread holds the worker until its loop ends, so the multi handle outlives every wakeup.
    deinit { curl_multi_cleanup(multi) }

    private static let cancelledError = DeliveryError(.cancelled, "the transfer was cancelled", isRetryable: true)

    /// Starts a transfer, or queues it while its host has `maxPerHost` transfers in flight.
    private func admit(_ id: UInt64, _ job: CurlJob, _ continuation: CheckedContinuation<CurlOutcome, any Error>, _ finished: inout Finished) {
        guard maxPerHost > 0 else {
            if let refused = start(id, job, continuation, host: nil, timeout: nil) { finished.append((id, continuation, .failure(refused))) }
            return
        }
        let key = job.hostKey
        let host: Host
        if let existing = hosts[key] { host = existing } else { host = Host(); hosts[key] = host }
        if host.active < maxPerHost {
            host.active += 1
            if let refused = start(id, job, continuation, host: key, timeout: nil) {
                finished.append((id, continuation, .failure(refused)))
                release(key, &finished)
            }
        } else {
            host.waiting.append(Waiting(id: id, job: job, continuation: continuation, since: .now))
        }
    }

    /// Frees one of `key`'s slots and starts what waits for it. A waiting request's time limit counts from when it
    /// was sent: it starts with what is left, or fails once none is.
    private func release(_ key: String, _ finished: inout Finished) {
        guard let host = hosts[key] else { return }
        host.active -= 1
        while host.active < maxPerHost && host.head < host.waiting.count {
            let next = host.waiting[host.head]
            host.head += 1
            let left = next.job.timeout - (ContinuousClock.now - next.since)
            guard left > .zero else {
                let error = DeliveryError(.timedOut, "\(next.job.peer): no connection free within \(next.job.timeout)", isRetryable: true)
                finished.append((next.id, next.continuation, .failure(error)))
                continue
            }
            host.active += 1
            if let refused = start(next.id, next.job, next.continuation, host: key, timeout: left) {
                finished.append((next.id, next.continuation, .failure(refused)))
                host.active -= 1
            }
        }
        if host.head == host.waiting.count {
            host.waiting.removeAll(keepingCapacity: true)
            host.head = 0
            if host.active == 0 { hosts[key] = nil }
        }
    }

    /// Fails the waiting requests whose time limit has passed; returns the nearest limit of those left.
    private func expireWaiting(_ finished: inout Finished) -> ContinuousClock.Instant? {
        let now = ContinuousClock.now
        var nearest: ContinuousClock.Instant?
        for host in hosts.values where host.head < host.waiting.count {
            let queued = host.waiting[host.head...]
            if queued.contains(where: { $0.since + $0.job.timeout <= now }) {
                host.waiting = queued.filter { waiting in
                    guard waiting.since + waiting.job.timeout <= now else { return true }
                    let error = DeliveryError(.timedOut, "\(waiting.job.peer): no connection free within \(waiting.job.timeout)",
                                              isRetryable: true)
                    finished.append((waiting.id, waiting.continuation, .failure(error)))
                    return false
                }
                host.head = 0
            }
            for waiting in host.waiting[host.head...] {
                let deadline = waiting.since + waiting.job.timeout
                if nearest.map({ deadline < $0 }) ?? true { nearest = deadline }
            }
        }
        return nearest
    }

    /// Fails a cancelled request that still waits for its host.
    private func dropWaiting(_ id: UInt64, _ finished: inout Finished) {
        for host in hosts.values {
            guard let index = host.waiting[host.head...].firstIndex(where: { $0.id == id }) else { continue }
            let waiting = host.waiting.remove(at: index)
            finished.append((waiting.id, waiting.continuation, .failure(Self.cancelledError)))
            return
        }
    }

    /// Adds a transfer to the multi handle; returns the error when it is refused before sending.
    private func start(_ id: UInt64, _ job: CurlJob, _ continuation: CheckedContinuation<CurlOutcome, any Error>,
                       host: String?, timeout: Duration?) -> DeliveryError? {
        guard let easy = idle.popLast() ?? curl_easy_init() else {
            return DeliveryError(.transferFailed, "curl_easy_init failed", isRetryable: true)
        }
        let transfer = CurlTransfer(id: id, job: job, easy: easy, continuation: continuation)
        transfer.host = host
        if let refused = transfer.configure(timeout: timeout) {
            recycle(transfer)
            return refused
        }
        running[id] = transfer
        curl_multi_add_handle(multi, easy)
        return nil
    }

    /// Takes a transfer off the multi handle, recycles its easy handle and frees its host's slot; adds what its caller
    /// is to be resumed with to `finished`.
    private func complete(_ transfer: CurlTransfer, _ result: Result<CurlOutcome, DeliveryError>, _ finished: inout Finished) {
        running[transfer.id] = nil
        curl_multi_remove_handle(multi, transfer.easy)
        recycle(transfer)
        finished.append((transfer.id, transfer.continuation, result))
        if let key = transfer.host { release(key, &finished) }
    }

    private func recycle(_ transfer: CurlTransfer) {
        transfer.releaseLists()
        curl_easy_reset(transfer.easy)
        idle.append(transfer.easy)
    }

    /// Forgets the finished transfers in one pass over the inbox lock, then resumes their callers; empties `finished`.
    private func resume(_ finished: inout Finished) {
        guard !finished.isEmpty else { return }
        inbox.withLock { state in
            for (id, _, _) in finished {
                state.live.remove(id)
                state.cancelled.remove(id)
            }
        }
        for (id, continuation, result) in finished {
            if case .failure(let error) = result, error.code != .cancelled {
                logger.debug("transfer failed", metadata: ["id": "\(id)", "error": "\(error)"])
            }
            continuation.resume(with: result.mapError { $0 as any Error })
        }
        finished.removeAll(keepingCapacity: true)
    }
}
