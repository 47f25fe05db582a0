import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald pause ID`, `herald resume ID`: pause or resume a campaign or journey on every daemon of the store,
/// without editing its file (docs/operations.md). Rows already planned wait; nothing new is planned or sent.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause a campaign or journey on every daemon (until `herald resume`).")

    @OptionGroup var configOption: ConfigOption
    @Argument(help: "The campaign or journey id.") var id: String
    @Option(help: "Why, for the history and the console.") var reason: String?

    func run() async throws {
        try await ControlSwitch.set(configOption, id: id, kind: .paused, on: true, reason: reason, verb: "paused")
    }
}

/// `herald resume ID`.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a campaign or journey paused with `herald pause`.")

    @OptionGroup var configOption: ConfigOption
    @Argument(help: "The campaign or journey id.") var id: String

    func run() async throws {
        try await ControlSwitch.set(configOption, id: id, kind: .paused, on: false, reason: nil, verb: "resumed")
    }
}

/// `herald rollout halt|resume ID`: hold a staged release at the stages already released, or let it go on.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Halt or resume a campaign's staged rollout.",
        subcommands: [Halt.self, Resume.self])

    struct Halt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "halt", abstract: "Plan nothing beyond the stages already released.")
        @OptionGroup var configOption: ConfigOption
        @Argument(help: "The campaign id.") var id: String
        @Option(help: "Why, for the history and the console.") var reason: String?

        func run() async throws {
            try await ControlSwitch.set(configOption, id: id, kind: .rolloutHalted, on: true, reason: reason, verb: "rollout halted")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume", abstract: "Let a halted rollout go on to its next stages.")
        @OptionGroup var configOption: ConfigOption
        @Argument(help: "The campaign id.") var id: String

        func run() async throws {
            try await ControlSwitch.set(configOption, id: id, kind: .rolloutHalted, on: false, reason: nil, verb: "rollout resumed")
        }
    }
}

/// The one way the CLI flips a switch: the id must name a loaded campaign or journey.
enum ControlSwitch {
    static func set(_ option: ConfigOption, id: String, kind: CampaignControls.Kind, on: Bool, reason: String?,
                    verb: String) async throws {
        let context = try HeraldContext.load(option)
        let (campaigns, journeys, _) = CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config)
        let known = campaigns.map(\.id) + journeys.map(\.id)
        guard known.contains(id) else {
            Console.err("error: no campaign or journey '\(VisibleText.escape(id))' in \(context.config.campaignsDirectory)"
                        + (NearMiss.didYouMean(id, among: known).map { "; \($0)" } ?? ""))
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        if kind == .rolloutHalted, journeys.contains(where: { $0.id == id }) {
            Console.err("error: '\(id)' is a journey; rollouts are staged releases of campaigns")
            throw ReportedFailure(code: ExitStatus.usage)
        }
        let ledger = try await context.openBackend().ledger
        try await ledger.setControl(subject: id, kind: kind, on: on, by: "cli", reason: reason,
                                    at: Int64(Date().timeIntervalSince1970))
        Console.out("\(id): \(verb) on every daemon of this store (within a scheduler tick)")
    }
}
