import ArgumentParser

/// The `herald` command line: validate, dry-run and inspect campaigns, import and inspect the audience.
public struct HeraldCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: campaigns, audience and send logs.",
        subcommands: [
            ValidateCommand.self, AudienceCommand.self, UsersCommand.self, EventsCommand.self,
            SampleCommand.self, DryRunCommand.self, WhyCommand.self, PrefsCommand.self,
            SendTestCommand.self, LogsCommand.self, StatsCommand.self, StoreCommand.self, JourneyCommand.self,
            PauseCommand.self, ResumeCommand.self, RolloutCommand.self,
        ])

    public init() {}

    /// Runs the command line, mapping reported failures to their exit codes.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let failure as ReportedFailure {
            Self.exit(withError: failure.code)
        } catch {
            Self.exit(withError: error)
        }
    }
}
