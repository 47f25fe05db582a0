import Foundation

/// How Herald reaches push services.
public struct WebPushSettings: Sendable, Hashable {
    /// TLS settings (a CA file for tests).
    public var tls: TLSOptions
    /// The time limit of one push.
    public var timeout: Duration

    /// Settings.
    public init(tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(30)) {
        self.tls = tls
        self.timeout = timeout
    }
}

/// Pushes to browsers (RFC 8030): the payload encrypted for the subscription (RFC 8291), POSTed to its endpoint
/// with a VAPID authorization (RFC 8292) and the `TTL`, `Urgency` and `Topic` headers (docs/push.md).
public struct WebPushSender: Sendable {
    /// The VAPID identity.
    public let vapid: VAPIDSigner
    /// TLS and time limits.
    public let settings: WebPushSettings
    private let engine: CurlEngine
    private let now: @Sendable () -> Double
    private let random: @Sendable () -> Double

    /// A sender; `now` is the clock (epoch seconds) that dates VAPID tokens, `random` the jitter source.
    public init(vapid: VAPIDSigner, settings: WebPushSettings = WebPushSettings(), engine: CurlEngine,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.vapid = vapid
        self.settings = settings
        self.engine = engine
        self.now = now
        self.random = random
    }

    /// Pushes `content` to `subscription` as the push of ledger row `key`; the receipt's id is the message
    /// resource (`Location`). A subscription whose endpoint or keys cannot work is a dead token.
    public func send(_ content: PushContent, to subscription: WebPushSubscription, key: String) async throws(PushError)
        -> PushReceipt
    {
        let request = try request(content, to: subscription, key: key, now: now())
        let response: HTTPResponse
        do { response = try await engine.send(request) } catch { throw PushError.transfer(error, provider: .webPush) }
        if let error = Self.classify(response, bodyBytes: request.body.count, now: now(), jitter: random()) { throw error }
        return PushReceipt(provider: .webPush, providerMessageID: response.header("location"), status: response.status)
    }

    /// The encrypted request of one push.
    public func request(_ content: PushContent, to subscription: WebPushSubscription, key: String, now: Double)
        throws(PushError) -> HTTPRequest
    {
        func dead(_ text: String) -> PushError {
            PushError(.deadToken(since: nil), provider: .webPush, reason: "bad_subscription", text)
        }
        guard let audience = VAPIDSigner.origin(of: subscription.endpoint) else {
            throw dead("the subscription's endpoint is not an http(s) URL")
        }
        guard let receiver = WebPushEncryption.ReceiverKeys(subscription) else {
            throw dead("the subscription's p256dh or auth key is malformed")
        }
        let plaintext = try PushPayload.webPushPlaintext(content, key: key)
        let body: [UInt8]
        let authorization: String
        do {
            body = try WebPushEncryption.encrypt(plaintext, to: receiver)
            authorization = try vapid.authorization(audience: audience, now: now)
        } catch {
            throw PushError(.credentialsRefused, provider: .webPush, reason: "encryption_failed",
                            "encrypting or signing the push failed")
        }
        let headers = [HeaderField("Authorization", authorization), HeaderField("Content-Encoding", "aes128gcm"),
                       HeaderField("Content-Type", "application/octet-stream")]
            + PushPayload.webPushHeaders(content)
        return HTTPRequest(method: .post, url: subscription.endpoint, headers: headers, body: body,
                           timeout: settings.timeout, tls: settings.tls)
    }

    /// The classified refusal in `response`, or nil for 2xx (201 Created, or 202 Accepted for a receipt request).
    public static func classify(_ response: HTTPResponse, bodyBytes: Int, now: Double, jitter: Double) -> PushError? {
        let status = response.status
        guard !(200..<300).contains(status) else { return nil }
        // Services word their bodies differently (Mozilla's JSON, plain text); the status alone decides.
        let message = (try? JSONDecoder().decode(Refusal.self, from: Data(response.body)))?.message
        let text = message ?? "the push service answered \(status)"
        let retryAfter = response.header("retry-after").flatMap { RetryAfter.seconds($0, now: now) }
        func refused(_ verdict: PushError.Verdict, _ reason: String) -> PushError {
            PushError(verdict, provider: .webPush, status: status, reason: reason, text)
        }
        switch status {
        case 404: return refused(.deadToken(since: nil), "not_found")
        case 410: return refused(.deadToken(since: nil), "gone")
        case 413: return refused(.payloadTooLarge(bytes: bodyBytes, limit: PushPayload.webPushRecordLimit), "payload_too_large")
        case 401: return refused(.credentialsRefused, "vapid_refused")
        // The subscription was made with another application server key. Not dead: a wrong key file would
        // otherwise deactivate every browser at once.
        case 403: return refused(.permanent, "vapid_key_mismatch")
        case 408, 429, 500..<600:
            return refused(.retry(after: PushBackoff.delay(retryAfter: retryAfter, unit: jitter)), status == 429 ? "too_many_requests" : "unavailable")
        default: return refused(.permanent, "refused")
        }
    }

    private struct Refusal: Decodable {
        var message: String?
    }
}
