import CCurl
import Logging

/// The libcurl engine: HTTP transfers on `threads` curl threads (`CurlWorker`), each owning its multi handle, its
/// easy handles and its connection cache; SMTP on pooled, pipelined connections (`SMTPSessions`). Callers `await`.
///
/// Each host's requests go to one worker (so connections are reused and HTTP/2 multiplexes over one), and different
/// hosts spread over the workers, so one thread's CPU is not the ceiling of a daemon that talks to several providers.
public final class CurlEngine: Sendable {
    private let workers: [CurlWorker]
    private let mail: SMTPSessions

    /// Initialises libcurl for the process (once); safe to call from `main` before any thread starts.
    public static func initializeLibrary() { _ = globalInit }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Starts the threads. `maxConnections` bounds the connection caches (shared out over the workers), `maxPerHost`
    /// the HTTP connections to one host (0: no limit; a host's transfers all run on one worker) and the SMTP
    /// connections to one server (16 when 0). `threads` is the number of curl threads (at least 1).
    public init(maxConnections: Int = 256, maxPerHost: Int = 0, threads: Int = 2, logger: Logger = Logger(label: "herald.curl")) {
        Self.initializeLibrary()
        let count = max(1, threads)
        workers = (0..<count).map { index in
            CurlWorker(name: count == 1 ? "herald-curl" : "herald-curl-\(index)",
                       maxConnections: max(1, maxConnections / count), maxPerHost: maxPerHost, logger: logger)
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

    /// The worker for `url`'s host: one host's transfers share one worker, so its connections are reused and an
    /// HTTP/2 peer gets one multiplexed connection; different hosts spread over the workers.
    private func worker(for url: String) -> CurlWorker {
        guard workers.count > 1 else { return workers[0] }
        // FNV-1a over `scheme://authority`: the bytes up to the first "/", "?" or "#" after "://" (UTF-8 only, as
        // this runs for every request).
        var hash: UInt32 = 2_166_136_261
        var slashes = 0
        for byte in url.utf8 {
            if byte == UInt8(ascii: "/") { slashes += 1 }
            if slashes >= 3 || (slashes == 2 && (byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#"))) { break }
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return workers[Int(hash % UInt32(workers.count))]
    }
}
