import Foundation
import HeraldCore

/// One SMS to send.
public struct SMSMessage: Sendable, Hashable {
    /// The recipient.
    public var to: PhoneNumber
    /// The text (any Unicode; non-GSM text goes out as UCS-2).
    public var text: String
    /// The ledger's idempotency key.
    public var idempotencyKey: String
    /// Where the gateway should report delivery (Kannel `dlr-url`, Twilio `StatusCallback`).
    public var statusCallback: String?

    /// A message.
    public init(to: PhoneNumber, text: String, idempotencyKey: String, statusCallback: String? = nil) {
        self.to = to
        self.text = text
        self.idempotencyKey = idempotencyKey
        self.statusCallback = statusCallback
    }
}

/// The gateway's answer to an accepted message.
public struct SMSReceipt: Sendable, Hashable {
    /// The HTTP status.
    public var status: Int
    /// The gateway's reply body (Kannel: `0: Accepted for delivery`; Twilio: JSON with the `sid`).
    public var body: String
    /// The segments the text takes.
    public var segments: Int
}

/// Sends SMS through a gateway: Kannel `sendsms`, the Twilio Messages API, or a templated HTTP request.
public struct SMSTransport: Sendable {
    /// The gateway kind.
    public let provider: SMSProvider
    /// The gateway URL (for `http`, a template with `{to}`, `{from}`, `{text}`, `{id}`, `{callback}`).
    public let url: String
    /// Gateway user name (Twilio account SID).
    public let username: String?
    private let password: String?
    /// The sender number or name.
    public let from: String?
    /// TLS settings.
    public let tls: TLSOptions
    /// The per-message time limit.
    public let timeout: Duration
    private let engine: CurlEngine

    /// A transport; `password` is kept out of every description and error.
    public init(provider: SMSProvider, url: String, username: String? = nil, password: String? = nil, from: String? = nil,
                tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(20), engine: CurlEngine) {
        self.provider = provider
        self.url = url
        self.username = username
        self.password = password
        self.from = from
        self.tls = tls
        self.timeout = timeout
        self.engine = engine
    }

    /// A transport from `channels.sms` and its password file's content.
    public init(config: SMSChannelConfig, password: String?, engine: CurlEngine) throws(DeliveryError) {
        guard let url = config.url else {
            throw DeliveryError(.invalidRequest, "channels.sms has no url (messages go to the outbox)", isRetryable: false)
        }
        self.init(provider: config.provider, url: url, username: config.username, password: password, from: config.from,
                  engine: engine)
    }

    /// The HTTP request for `message`.
    public func request(_ message: SMSMessage) -> HTTPRequest {
        let encoding = SMSEncoding(message.text)
        switch provider {
        case .kannel:
            var query: [(String, String)] = [("username", username ?? ""), ("password", password ?? ""),
                                             ("to", message.to.e164), ("text", message.text), ("charset", "UTF-8")]
            if let from { query.append(("from", from)) }
            if encoding.coding == .ucs2 { query.append(("coding", "2")) }
            if let callback = message.statusCallback { query += [("dlr-mask", "31"), ("dlr-url", callback)] }
            let separator = url.contains("?") ? "&" : "?"
            return HTTPRequest(method: .get, url: url + separator + PercentEncoding.form(query), timeout: timeout, tls: tls)
        case .twilio:
            var form: [(String, String)] = [("To", message.to.e164), ("From", from ?? ""), ("Body", message.text)]
            if let callback = message.statusCallback { form.append(("StatusCallback", callback)) }
            return HTTPRequest(method: .post, url: url,
                               headers: [HeaderField("Content-Type", "application/x-www-form-urlencoded"),
                                         HeaderField("Idempotency-Key", message.idempotencyKey)],
                               body: Array(PercentEncoding.form(form).utf8), timeout: timeout, tls: tls,
                               username: username, password: password)
        case .http:
            let values = ["to": message.to.e164, "from": from ?? "", "text": message.text, "id": message.idempotencyKey,
                          "callback": message.statusCallback ?? ""]
            var filled = url
            for (key, value) in values { filled = filled.replacingOccurrences(of: "{\(key)}", with: PercentEncoding.encode(value)) }
            let body = try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])
            return HTTPRequest(method: .post, url: filled,
                               headers: [HeaderField("Content-Type", "application/json"),
                                         HeaderField("Idempotency-Key", message.idempotencyKey)],
                               body: Array(body ?? Data()), timeout: timeout, tls: tls, username: username, password: password)
        }
    }

    /// Sends one message; throws a classified `DeliveryError` unless the gateway accepted it.
    @discardableResult
    public func send(_ message: SMSMessage, now: Double = 0) async throws -> SMSReceipt {
        let response = try await engine.send(request(message))
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.seconds($0, now: now) }
        if response.status == 401 || response.status == 403 {
            throw DeliveryError(.loginDenied, "the \(provider) gateway refused the credentials (\(response.status))",
                                isRetryable: false, status: response.status)
        }
        if let error = DeliveryError.forHTTP(status: response.status, retryAfter: retryAfter, peer: "the \(provider) gateway") {
            throw error
        }
        return SMSReceipt(status: response.status, body: response.text, segments: SMSEncoding(message.text).segments)
    }
}
