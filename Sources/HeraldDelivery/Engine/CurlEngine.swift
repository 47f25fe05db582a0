import CCurl
import Logging

/// The libcurl engine: HTTP transfers on `threads` curl threads (`CurlWorker`), each owning its multi handle, its
/// easy handles and its connection cache; SMTP on pooled, pipelined connections (`SMTPSessions`). Callers `await`.
///
/// Each host has a home worker, so a lightly used host keeps one worker's connections (and an HTTP/2 peer one
/// multiplexed connection); once `spillAt` requests (for any host) are in flight there, further ones go to the least
/// busy worker, so one busy endpoint is not held to one thread's CPU (libcurl's per-transfer work, not the network, is
/// what limits a fast peer). Each worker keeps its own connections; the per-host connection limit is shared out over
/// the workers, so a host never sees more than `maxPerHost` connections.
public final class CurlEngine: Sendable {
    private let workers: [CurlWorker]
    private let mail: SMTPSessions
    private let spillAt: Int

    /// Initialises libcurl for the process (once); safe to call from `main` before any thread starts.
    public static func initializeLibrary() { _ = globalInit }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Starts the threads. `maxConnections` bounds the connection caches and `maxPerHost` the HTTP connections to
    /// one host (0: no limit), both shared out over the workers (with a `maxPerHost` below `threads`, only that many
    /// workers run); `maxPerHost` also bounds the SMTP connections to one server (16 when 0). `threads` is the
    /// number of curl threads (at least 1). `maxStreams` is the most streams one HTTP/2 connection carries (libcurl's
    /// default, 100, unless raised: APNs takes 1,000 on one connection, docs/push.md).
    public init(maxConnections: Int = 256, maxPerHost: Int = 0, threads: Int = 2, spillAt: Int = 16, maxStreams: Int = 100,
                logger: Logger = Logger(label: "herald.curl")) {
        Self.initializeLibrary()
        self.spillAt = max(1, spillAt)
        let count = maxPerHost > 0 ? min(max(1, threads), maxPerHost) : max(1, threads)
        workers = (0..<count).map { index in
            // The first `maxPerHost % count` workers take one connection more, so the limits add up to `maxPerHost`.
            let perHost = maxPerHost > 0 ? maxPerHost / count + (index < maxPerHost % count ? 1 : 0) : 0
            return CurlWorker(name: count == 1 ? "herald-curl" : "herald-curl-\(index)",
                              maxConnections: max(1, maxConnections / count), maxPerHost: perHost,
                              maxStreams: maxStreams, logger: logger)
        }
        mail = SMTPSessions(maxPerServer: maxPerHost > 0 ? maxPerHost : 16, logger: logger)
    }

    /// Sends an HTTP request; any complete response is returned, whatever its status.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await worker(for: request.url).send(request)
    }

    /// Runs one SMTP transaction over a pooled, pipelined connection; throws a `DeliveryError` unless the server
    /// accepted the message.
    public func send(_ request: SMTPRequest) async throws -> SMTPReply {
        try await mail.send(request)
    }

    /// Stops the threads: transfers in flight fail with `cancelled`, later sends fail at once.
    public func shutdown() {
        for worker in workers { worker.shutdown() }
        mail.shutdown()
    }

    /// The number of HTTP transfers submitted and not yet finished.
    public var inFlight: Int { workers.reduce(0) { $0 + $1.inFlight } }

    /// The worker for a request to `url`: its host's home worker, or the least busy one once `spillAt` requests are
    /// in flight at home.
    private func worker(for url: String) -> CurlWorker {
        guard workers.count > 1 else { return workers[0] }
        // FNV-1a over the bytes of `scheme://authority`.
        var hash: UInt32 = 2_166_136_261
        for byte in url.utf8[..<CurlJob.authorityEnd(url)] { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let home = workers[Int(hash % UInt32(workers.count))]
        guard home.load >= spillAt else { return home }
        return workers.min { $0.load < $1.load } ?? home
    }
}
