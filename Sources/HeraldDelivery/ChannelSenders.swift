import Foundation
import HeraldCore

/// Where and how one rendered message goes: everything besides its content.
public struct Envelope: Sendable, Hashable {
    /// The ledger's idempotency key (`webhook-id`, the `Message-ID`'s source, the outbox file name).
    public var key: String
    /// The channel.
    public var channel: ChannelKind
    /// The recipient's address (email or E.164 phone); nil for webhooks.
    public var address: String?
    /// The webhook endpoint's name, for webhooks.
    public var endpoint: String?
    /// The one-click unsubscribe URL, for marketing email.
    public var unsubscribeURL: String?
    /// Where the SMS gateway reports delivery.
    public var statusCallback: String?
    /// The send time, epoch seconds (`Date:`, `webhook-timestamp`).
    public var date: Int64
    /// The user's active devices, newest first, for push.
    public var devices: [RegisteredDevice] = []

    /// An envelope.
    public init(
        key: String, channel: ChannelKind, address: String?, endpoint: String? = nil, unsubscribeURL: String? = nil,
        statusCallback: String? = nil, date: Int64
    ) {
        self.key = key
        self.channel = channel
        self.address = address
        self.endpoint = endpoint
        self.unsubscribeURL = unsubscribeURL
        self.statusCallback = statusCallback
        self.date = date
    }
}

/// What a provider (or the outbox) said when it took a message.
public struct Accepted: Sendable, Hashable {
    /// The provider's message id, when it gave one (else the idempotency key).
    public var providerMessageID: String?
    /// A short human note: `SMTP 250`, `HTTP 202`, `outbox var/outbox/…`.
    public var detail: String

    /// An acceptance.
    public init(providerMessageID: String?, detail: String) {
        self.providerMessageID = providerMessageID
        self.detail = detail
    }
}

/// The configured channels, ready to send: one transport per channel or webhook endpoint (or the outbox when a
/// channel has no provider), each behind its rate limit, quota and circuit breaker. Secrets are read once, here.
///
/// The daemon and `herald send-test` both send through this: the one path from a rendered message to bytes.
public final class ChannelSenders: Sendable {
    private let email: EmailTransport?
    private let from: Mailbox?
    private let sms: SMSTransport?
    private let smsFrom: String?
    private let webhooks: [String: WebhookTransport]
    private let outbox: Outbox
    private let push: PushSender
    private let webPushHosts: [String]
    /// Webhook endpoints that answered 410 Gone: disabled until the next reload builds new senders.
    private let gone = LockedState(Set<String>())
    /// Rate limit, quota and breaker per channel and per webhook endpoint.
    public let gates: [GateKey: GateBox]

    /// Senders for `config`; `baseDirectory` resolves a relative outbox. Throws a diagnostic naming the field
    /// when a secret file cannot be read.
    public init(config: ChannelsConfig, baseDirectory: String, engine: CurlEngine, pushEngine: CurlEngine? = nil) throws {
        func secret(_ path: String?, _ field: String) throws -> String? {
            guard let path else { return nil }
            return try SecretFile.read(path, field: field).get()
        }
        var gates: [GateKey: GateBox] = [:]
        if let e = config.email, e.url != nil {
            email = try EmailTransport(
                config: e, password: secret(e.passwordFile, "channels.email.password_file"), engine: engine)
        } else {
            email = nil
        }
        from = config.email?.from
        gates[.email] = GateBox(ProviderGate(rate: config.email?.rate, quota: config.email?.quota))
        if let s = config.sms, s.url != nil {
            sms = try SMSTransport(
                config: s, password: secret(s.passwordFile, "channels.sms.password_file"), engine: engine)
        } else {
            sms = nil
        }
        smsFrom = config.sms?.from
        gates[.sms] = GateBox(ProviderGate(rate: config.sms?.rate, quota: nil))
        var hooks: [String: WebhookTransport] = [:]
        for (name, endpoint) in config.webhookEndpoints {
            gates[.webhook(endpoint: name)] = GateBox(ProviderGate(rate: endpoint.rate, quota: nil))
            guard let url = endpoint.url else { continue }
            var secrets: [WebhookSecret] = []
            for file in endpoint.secretFiles {
                let field = "channels.webhook.endpoints.\(name).secret_file"
                guard let text = try secret(file, field), let s = WebhookSecret(text) else {
                    throw DeliveryError(
                        .invalidRequest, "\(field): \(file) does not hold a whsec_ base64 secret", isRetryable: false)
                }
                secrets.append(s)
            }
            hooks[name] = WebhookTransport(name: name, url: url, secrets: secrets, engine: engine)
        }
        webhooks = hooks
        push = try config.push.map { try PushSender(config: $0, engine: engine, apnsEngine: pushEngine) } ?? PushSender()
        webPushHosts = config.push?.webPush?.allowHosts ?? []
        gates[.push] = GateBox(ProviderGate(rate: config.push?.rate, quota: nil))
        let dir = config.outbox
        outbox = Outbox(directory: dir.hasPrefix("/") ? dir : baseDirectory + "/" + dir)
        self.gates = gates
    }

    /// True when `envelope` goes to the outbox rather than a provider.
    public func usesOutbox(_ e: Envelope) -> Bool { usesOutbox(GateKey(e)) }

    /// True when sends through `gate` go to the outbox rather than a provider.
    public func usesOutbox(_ gate: GateKey) -> Bool {
        switch gate {
        case .email: email == nil
        case .sms: sms == nil
        case .webhook(let endpoint): webhooks[endpoint] == nil
        case .push: push.isEmpty
        }
    }

    /// True when a Web Push subscription's endpoint may be registered and sent to (`WebPushEndpoints`).
    public func allowsWebPush(_ endpoint: String) -> Bool {
        WebPushEndpoints.isAllowed(endpoint, extraHosts: webPushHosts)
    }

    /// Sends a rendered push to `devices` at once (at most `DeviceLimits.perPush`, newest first), or writes it
    /// to the outbox when no provider is configured. Never throws: the result says what each device answered.
    public func sendPush(_ message: RenderedMessage, key: String, devices: [RegisteredDevice]) async -> PushDispatch {
        let content = PushContent(message.push ?? RenderedPush())
        let targets = devices.prefix(DeviceLimits.perPush).map(PushDevice.init)
        guard !targets.isEmpty else { return PushDispatch(attempts: []) }
        if push.isEmpty {
            var dispatch = PushDispatch(attempts: [])
            do {
                dispatch.result = .success(Accepted(
                    providerMessageID: nil, detail: "outbox " + (try outbox.writePush(key: key, content: content, devices: targets))))
            } catch {
                dispatch.result = .failure(DeliveryError(.transferFailed, "outbox: \(error)", isRetryable: true))
            }
            return dispatch
        }
        var refused: [PushAttempt] = []
        var allowed: [PushDevice] = []
        for device in targets {
            if case .webPush(let s) = device, !allowsWebPush(s.endpoint) {
                refused.append(PushAttempt(device: device, result: .failure(PushError(
                    .deadToken(since: nil), provider: .webPush, reason: "endpoint_not_allowed",
                    "the subscription's endpoint is not a known push service (channels.push.webpush.allow_hosts)"))))
            } else {
                allowed.append(device)
            }
        }
        return PushDispatch(attempts: await push.send(content, to: allowed, key: key) + refused)
    }

    /// Sends `message` as `envelope` says; throws a classified `DeliveryError` unless it was accepted.
    public func send(_ message: RenderedMessage, _ envelope: Envelope) async throws(DeliveryError) -> Accepted {
        do {
            switch envelope.channel {
            case .email: return try await sendEmail(message, envelope)
            case .sms: return try await sendSMS(message, envelope)
            case .webhook: return try await sendWebhook(message, envelope)
            case .push: return try await sendPush(message, key: envelope.key, devices: envelope.devices).result.get()
            }
        } catch let e as DeliveryError {
            throw e
        } catch {
            throw DeliveryError(.transferFailed, "\(error)", isRetryable: true)
        }
    }

    private func sendEmail(_ m: RenderedMessage, _ e: Envelope) async throws -> Accepted {
        guard let from else {
            throw DeliveryError(.invalidRequest, "channels.email.from is not configured", isRetryable: false)
        }
        guard let address = e.address, let to = Mailbox(parsing: address) else {
            throw DeliveryError(.invalidRequest, "no valid email address", isRetryable: false)
        }
        let message = EmailMessage(
            from: from, to: to, subject: m.subject ?? "", text: m.text, html: m.html, idempotencyKey: e.key,
            date: e.date, unsubscribeURL: e.unsubscribeURL)
        guard let email else { return Accepted(providerMessageID: nil, detail: "outbox " + (try outbox.write(message))) }
        let reply = try await email.send(message)
        return Accepted(providerMessageID: nil, detail: "SMTP \(reply.code)")
    }

    private func sendSMS(_ m: RenderedMessage, _ e: Envelope) async throws -> Accepted {
        guard let number = e.address.flatMap(PhoneNumber.init) else {
            throw DeliveryError(.invalidRequest, "no valid E.164 number", isRetryable: false)
        }
        let message = SMSMessage(
            to: number, text: m.text ?? "", idempotencyKey: e.key, statusCallback: e.statusCallback)
        guard let sms else {
            return Accepted(providerMessageID: nil, detail: "outbox " + (try outbox.write(message, from: smsFrom)))
        }
        let receipt = try await sms.send(message, now: Double(e.date))
        return Accepted(providerMessageID: Self.providerID(receipt.body), detail: "HTTP \(receipt.status)")
    }

    private func sendWebhook(_ m: RenderedMessage, _ e: Envelope) async throws -> Accepted {
        let body = Array((m.json ?? "{}").utf8)
        guard let name = e.endpoint, let hook = webhooks[name] else {
            return Accepted(
                providerMessageID: nil,
                detail: "outbox " + (try outbox.writeWebhook(endpoint: e.endpoint ?? "", id: e.key, body: body)))
        }
        if gone.withLock({ $0.contains(name) }) {
            throw DeliveryError(
                .endpointGone, "webhook '\(name)' is disabled: it answered 410 Gone; fix its url and reload",
                isRetryable: false)
        }
        do {
            let response = try await hook.deliver(id: e.key, body: body, timestamp: e.date)
            return Accepted(providerMessageID: nil, detail: "HTTP \(response.status)")
        } catch let error as DeliveryError where error.code == .endpointGone {
            gone.withLock { _ = $0.insert(name) }
            throw error
        }
    }

    /// A gateway's message id from its reply: Twilio's JSON `sid`; nothing for plain-text replies.
    static func providerID(_ body: String) -> String? {
        guard body.hasPrefix("{"), let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["sid"] as? String
    }
}
