import ArgumentParser
import Foundation
import HeraldCore
import HeraldDelivery

/// `herald send-test CAMPAIGN --user USER [--to ADDRESS]`: renders and sends one real message (docs/cli.md).
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

    func validate() throws { try checkUserArgument(user, "--user") }

    func run() async throws {
        let context = try HeraldContext.load(configOption)
        let (campaigns, diagnostics) = context.campaigns()
        guard let chosen = campaigns.first(where: { $0.id == campaign }) else {
            report(diagnostics.filter(\.isError))
            Console.err("error: no valid campaign '\(campaign)' in \(context.config.campaignsDirectory)")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let store = try await context.openStore()
        guard let profile = try await store.profile(id: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let key = "send-test:\(chosen.id):\(profile.id):\(now)"
        let base = context.config.api.publicURL ?? "http://\(context.config.api.host):\(context.config.api.port)"
        let channel = chosen.message.channel
        let address: String?
        switch channel {
        case .email: address = to ?? profile.email
        case .sms: address = to ?? profile.phone
        case .webhook, .push:
            guard to == nil else {
                Console.err("error: --to applies to email and SMS campaigns; a webhook goes to its configured endpoint, "
                            + "a push to the user's registered devices")
                throw ReportedFailure(code: ExitStatus.usage)
            }
            address = nil
        }
        var devices: [RegisteredDevice] = []
        if channel == .push {
            devices = try await store.activeDevices(users: [profile.id], limit: DeviceLimits.perPush)[profile.id] ?? []
            guard !devices.isEmpty else {
                Console.err("error: user '\(profile.id)' has no active push device (register one with POST /v1/devices)")
                throw ReportedFailure(code: ExitStatus.invalidInput)
            }
        }
        let unsubscribe = chosen.transactional ? nil : base + "/u/send-test"
        let message = RenderedMessage.render(
            campaign: chosen, variant: nil, channel: channel, facts: UserFacts(profile: profile),
            unsubscribeURL: unsubscribe)
        var envelope = Envelope(
            key: key, channel: channel, address: address, endpoint: chosen.message.webhook?.endpoint,
            unsubscribeURL: unsubscribe, date: now)
        envelope.devices = devices
        let engine = CurlEngine()
        defer { engine.shutdown() }
        do {
            let senders = try ChannelSenders(
                config: context.config.channels, baseDirectory: context.config.baseDirectory, engine: engine)
            let accepted = try await senders.send(message, envelope)
            let to = address.map(ContactValidator.mask)
                ?? (channel == .push ? "\(devices.count) device(s)" : "endpoint '\(envelope.endpoint ?? "")'")
            Console.out("sent \(channel.rawValue) to \(to): \(accepted.detail)")
        } catch let error as DeliveryError {
            Console.err("error: \(channel.rawValue) send failed: \(error)")
            throw ReportedFailure(code: error.code == .invalidRequest ? ExitStatus.invalidInput : ExitStatus.unavailable)
        } catch let failure as SecretFile.Failure {
            Console.err("error: \(failure.diagnostic.description)")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
    }
}
