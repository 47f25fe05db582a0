import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery

/// `herald send-test CAMPAIGN --user USER [--to ADDRESS]`: renders and sends one real message (SPEC §7).
///
/// Goes through the channel's configured provider; a channel without a provider URL writes to the outbox.
struct SendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Render a campaign's message for one user and send it through the configured provider.")

    @OptionGroup var configOption: ConfigOption
    @Argument(help: "The campaign id.") var campaign: String
    @Option(help: "The user whose profile fills the templates.") var user: String
    @Option(help: "Send here instead of the user's own address or number.") var to: String?

    func run() async throws {
        let context = try HeraldContext.load(configOption)
        let (campaigns, diagnostics) = context.campaigns()
        guard let chosen = campaigns.first(where: { $0.id == campaign }) else {
            report(diagnostics.filter(\.isError))
            Console.err("error: no valid campaign '\(campaign)' in \(context.config.campaignsDirectory)")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let store = try context.openStore()
        guard let profile = try await store.profile(id: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let key = "send-test:\(chosen.id):\(profile.id):\(now)"
        let base = context.config.api.publicURL ?? "http://\(context.config.api.host):\(context.config.api.port)"
        let renderer = MessageRenderer(context: [
            "user_id": profile.id, "campaign_id": chosen.id, "unsubscribe_url": base + "/u/send-test",
        ])
        let message = chosen.message(forVariant: nil)
        let channels = context.config.channels
        let outbox = Outbox(directory: resolve(channels.outbox, context.config.baseDirectory))
        let engine = CurlEngine()
        defer { engine.shutdown() }
        do {
            switch message.channel {
            case .email:
                let result = try await sendEmail(message, chosen, profile, key, now, renderer, channels, outbox, engine, base)
                Console.out(result)
            case .sms:
                Console.out(try await sendSMS(message, profile, key, renderer, channels, outbox, engine))
            case .webhook:
                Console.out(try await sendWebhook(message, profile, key, now, renderer, channels, outbox, engine))
            }
        } catch let error as DeliveryError {
            Console.err("error: \(message.channel) send failed: \(error)")
            throw ReportedFailure(code: error.code == .invalidRequest ? ExitStatus.invalidInput : ExitStatus.unavailable)
        } catch let failure as SecretFile.Failure {
            Console.err("error: \(failure.diagnostic.description)")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
    }

    private func sendEmail(_ message: Campaign.Message, _ campaign: Campaign, _ profile: UserProfile, _ key: String, _ now: Int64,
                           _ renderer: MessageRenderer, _ channels: ChannelsConfig, _ outbox: Outbox, _ engine: CurlEngine,
                           _ base: String) async throws -> String {
        guard let body = message.email, let config = channels.email, let from = config.from else {
            throw DeliveryError(.invalidRequest, "the campaign sends email but channels.email.from is not configured", isRetryable: false)
        }
        guard let address = to ?? profile.email, let recipient = Mailbox(parsing: address) else {
            throw DeliveryError(.invalidRequest, "no valid email address for user '\(profile.id)' (use --to)", isRetryable: false)
        }
        let email = EmailMessage(
            from: from, to: recipient, subject: renderer.render(body.subject, for: profile),
            text: body.text.map { renderer.render($0, for: profile) }, html: body.html.map { renderer.render($0, for: profile, html: true) },
            idempotencyKey: key, date: now, unsubscribeURL: campaign.transactional ? nil : base + "/u/send-test")
        guard config.url != nil else { return "wrote \(try outbox.write(email))" }
        let password = try config.passwordFile.map { try SecretFile.read($0, field: "channels.email.password_file").get() }
        let reply = try await EmailTransport(config: config, password: password, engine: engine).send(email)
        return "sent email to \(recipient.address): SMTP \(reply.code)"
    }

    private func sendSMS(_ message: Campaign.Message, _ profile: UserProfile, _ key: String, _ renderer: MessageRenderer,
                         _ channels: ChannelsConfig, _ outbox: Outbox, _ engine: CurlEngine) async throws -> String {
        guard let template = message.sms else {
            throw DeliveryError(.invalidRequest, "the campaign has no SMS text", isRetryable: false)
        }
        guard let number = (to ?? profile.phone).flatMap(PhoneNumber.init) else {
            throw DeliveryError(.invalidRequest, "no valid E.164 number for user '\(profile.id)' (use --to +15550001111)", isRetryable: false)
        }
        let sms = SMSMessage(to: number, text: renderer.render(template, for: profile), idempotencyKey: key)
        guard let config = channels.sms, config.url != nil else { return "wrote \(try outbox.write(sms, from: channels.sms?.from))" }
        let password = try config.passwordFile.map { try SecretFile.read($0, field: "channels.sms.password_file").get() }
        let receipt = try await SMSTransport(config: config, password: password, engine: engine).send(sms)
        return "sent SMS to \(number) via \(config.provider) (\(receipt.segments) segment(s)): HTTP \(receipt.status)"
    }

    private func sendWebhook(_ message: Campaign.Message, _ profile: UserProfile, _ key: String, _ now: Int64,
                             _ renderer: MessageRenderer, _ channels: ChannelsConfig, _ outbox: Outbox,
                             _ engine: CurlEngine) async throws -> String {
        guard let hook = message.webhook, let endpoint = channels.webhookEndpoints[hook.endpoint] else {
            throw DeliveryError(.invalidRequest, "the webhook endpoint is not configured", isRetryable: false)
        }
        let body = renderer.renderJSON(hook.body, for: profile)
        guard let url = to ?? endpoint.url else { return "wrote \(try outbox.writeWebhook(endpoint: endpoint.name, id: key, body: body))" }
        var secrets: [WebhookSecret] = []
        for file in endpoint.secretFiles {
            let text = try SecretFile.read(file, field: "channels.webhook.endpoints.\(endpoint.name).secret_file").get()
            guard let secret = WebhookSecret(text) else {
                throw DeliveryError(.invalidRequest, "\(file) does not hold a whsec_ base64 secret", isRetryable: false)
            }
            secrets.append(secret)
        }
        let transport = WebhookTransport(name: endpoint.name, url: url, secrets: secrets, engine: engine)
        let response = try await transport.deliver(id: key, body: body, timestamp: now)
        return "delivered webhook '\(endpoint.name)': HTTP \(response.status)"
    }

    private func resolve(_ path: String, _ base: String) -> String { path.hasPrefix("/") ? path : base + "/" + path }
}
