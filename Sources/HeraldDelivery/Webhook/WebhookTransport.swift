import Logging

/// Delivers signed JSON webhooks to one endpoint through the engine.
///
/// Redirects are never followed; 410 Gone fails with `endpointGone` (the caller disables the
/// endpoint); 429/502/503/504 fail with the retryable `slowDown`, carrying any Retry-After.
public struct WebhookTransport: Sendable {
    /// The endpoint's name, for errors and logs.
    public let name: String
    /// The endpoint URL.
    public let url: String
    /// Signing secrets; each adds a signature.
    public let secrets: [WebhookSecret]
    /// TLS settings.
    public let tls: TLSOptions
    /// The per-delivery time limit.
    public let timeout: Duration
    private let engine: CurlEngine
    private let logger: Logger

    /// A transport for `url` signing with `secrets`.
    public init(name: String, url: String, secrets: [WebhookSecret], engine: CurlEngine,
                tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(15),
                logger: Logger = Logger(label: "herald.webhook")) {
        self.logger = logger
        self.name = name
        self.url = url
        self.secrets = secrets
        self.engine = engine
        self.tls = tls
        self.timeout = timeout
    }

    /// The request for one delivery; `id` is the idempotency key, `timestamp` Unix seconds.
    public func request(id: String, timestamp: Int64, body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: .post, url: url,
                    headers: WebhookSigner.headers(id: id, timestamp: timestamp, body: body, secrets: secrets),
                    body: body, timeout: timeout, tls: tls, followRedirects: false)
    }

    /// Delivers `body` (JSON) once; throws a classified `DeliveryError` unless the endpoint answered 2xx.
    @discardableResult
    public func deliver(id: String, body: [UInt8], timestamp: Int64) async throws -> HTTPResponse {
        let response = try await engine.send(request(id: id, timestamp: timestamp, body: body))
        guard !(200..<300).contains(response.status) else { return response }
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.seconds($0, now: Double(timestamp)) }
        if let error = DeliveryError.forHTTP(status: response.status, retryAfter: retryAfter, peer: "webhook '\(name)'") {
            if error.code == .endpointGone {
                logger.error("webhook endpoint answered 410 Gone: DISABLE IT; no further deliveries will succeed",
                             metadata: ["endpoint": "\(name)"])
            }
            throw error
        }
        return response
    }
}
