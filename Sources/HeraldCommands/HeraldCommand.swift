import ArgumentParser

/// The `herald` command line: validate, dry-run and inspect campaigns, import and inspect the audience.
public struct HeraldCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: campaigns, audience and send logs.",
        subcommands: [SampleCommand.self])

    public init() {}
}
