import HeraldCore

/// Sends `EmailMessage`s over SMTP (STARTTLS required on `smtp://` unless insecure, or SMTPS) through the engine.
public struct EmailTransport: Sendable {
    /// The server URL.
    public let url: String
    /// Allow `smtp://` without STARTTLS.
    public let insecure: Bool
    /// AUTH user name.
    public let username: String?
    private let password: String?
    /// TLS settings (verify by default, optional CA file).
    public let tls: TLSOptions
    /// The per-message time limit.
    public let timeout: Duration
    private let engine: CurlEngine

    /// A transport; `password` is kept out of every description and error.
    public init(url: String, insecure: Bool = false, username: String? = nil, password: String? = nil,
                tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(60), engine: CurlEngine) {
        self.url = url
        self.insecure = insecure
        self.username = username
        self.password = password
        self.tls = tls
        self.timeout = timeout
        self.engine = engine
    }

    /// A transport from the `channels.email` config and its password file's content.
    public init(config: EmailChannelConfig, password: String?, engine: CurlEngine) throws(DeliveryError) {
        guard let url = config.url else {
            throw DeliveryError(.invalidRequest, "channels.email has no url (messages go to the outbox)", isRetryable: false)
        }
        self.init(url: url, insecure: config.insecure, username: config.username, password: password,
                  tls: TLSOptions(caFile: config.caFile, verifyPeer: !config.insecure), engine: engine)
    }

    /// Builds and sends one message; throws a classified `DeliveryError` unless the server accepted it.
    @discardableResult
    public func send(_ message: EmailMessage) async throws -> SMTPReply {
        let bytes = try MIMEBuilder.build(message)
        return try await engine.send(SMTPRequest(
            url: url, insecure: insecure, username: username, password: password, mailFrom: message.from.address,
            recipients: [message.to.address], message: bytes, timeout: timeout, tls: tls))
    }
}
