/// A failed delivery attempt: what went wrong, and whether trying again may help.
///
/// Messages never contain secrets (passwords, tokens, webhook secrets, URL query strings).
public struct DeliveryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; a struct so kinds can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public let name: String
        private init(_ name: String) { self.name = name }

        /// The peer could not be reached, or the connection broke mid-transfer.
        public static let connectionFailed = Code("connection failed")
        /// The transfer exceeded its timeout.
        public static let timedOut = Code("timed out")
        /// The peer's TLS certificate did not verify, or TLS could not be negotiated.
        public static let tlsFailed = Code("TLS failed")
        /// The server refused the credentials.
        public static let loginDenied = Code("login denied")
        /// The server answered with an HTTP status that means failure.
        public static let httpStatus = Code("HTTP status")
        /// The server told us to slow down (HTTP 429, 502, 503, 504).
        public static let slowDown = Code("slow down")
        /// The SMTP server rejected the message or a recipient.
        public static let smtpRejected = Code("SMTP rejected")
        /// The webhook endpoint answered 410 Gone: it must be disabled.
        public static let endpointGone = Code("ENDPOINT GONE (410): endpoint disabled")
        /// The request itself is invalid (bad URL, header injection, bad address, bad number).
        public static let invalidRequest = Code("invalid request")
        /// The circuit breaker is open for this provider.
        public static let circuitOpen = Code("circuit open")
        /// The rate limit or daily quota does not allow a send now.
        public static let rateLimited = Code("rate limited")
        /// The transfer was cancelled.
        public static let cancelled = Code("cancelled")
        /// Any other transfer failure.
        public static let transferFailed = Code("transfer failed")
        /// A push provider declared the device token or subscription dead: deactivate it, never retry.
        public static let deviceGone = Code("device_gone")
        /// The push payload is over the provider's size limit (docs/push.md): permanent.
        public static let payloadTooLarge = Code("payload_too_large")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation without secrets.
    public var message: String
    /// True when trying again later may succeed.
    public var isRetryable: Bool
    /// The HTTP status or SMTP reply code, when the peer answered.
    public var status: Int?
    /// Seconds the peer asked us to wait (Retry-After), if it said.
    public var retryAfter: Double?

    /// An error.
    public init(_ code: Code, _ message: String, isRetryable: Bool, status: Int? = nil, retryAfter: Double? = nil) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
        self.status = status
        self.retryAfter = retryAfter
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// Classifies an HTTP status: nil for 2xx; 5xx, 408 and 429 retryable; 410 gone; other 4xx permanent.
    public static func forHTTP(status: Int, retryAfter: Double? = nil, peer: String) -> DeliveryError? {
        switch status {
        case 200..<300: return nil
        case 410: return DeliveryError(.endpointGone, "\(peer) answered 410 Gone", isRetryable: false, status: status)
        case 429, 502, 503, 504:
            return DeliveryError(.slowDown, "\(peer) answered \(status)", isRetryable: true, status: status, retryAfter: retryAfter)
        case 408, 500..<600:
            return DeliveryError(.httpStatus, "\(peer) answered \(status)", isRetryable: true, status: status, retryAfter: retryAfter)
        default:
            return DeliveryError(.httpStatus, "\(peer) answered \(status)", isRetryable: false, status: status)
        }
    }
}
