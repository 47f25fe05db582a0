import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald prefs …`: a user's consent.
struct PrefsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefs", abstract: "Show or change a user's consent preferences.",
        subcommands: [PrefsShowCommand.self, PrefsSetCommand.self])
}

/// `herald prefs show USER`.
struct PrefsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a user's opt-outs and suppression entries.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The user id.") var user: String
    @Option(help: "table, or json: one object.") var format: OutputFormat = .table

    func validate() throws { try checkUserArgument(user) }

    func run() async throws {
        let context = try HeraldContext.load(options)
        let store = try await context.openStore()
        guard let profile = try await store.profile(id: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let prefs = try await store.preferences(userID: user)
        let suppressed = try await store.isSuppressed(
            [user] + [profile.email, profile.phone].compactMap { $0 })
        let channels = prefs.channels.sorted { $0.key < $1.key }
        let topics = prefs.topics.sorted { $0.key < $1.key }
        if format == .json {
            var line = JSONLine()
            line.add("user", user)
            line.add("global_opt_out", prefs.globalOptOut)
            line.addRaw(
                "channels",
                "{"
                    + channels.map {
                        "\(JSONLine.quote($0.key)):\($0.value ? "\"opted_out\"" : "\"opted_in\"")"
                    }.joined(separator: ",") + "}")
            line.addRaw(
                "topics",
                "{"
                    + topics.map {
                        "\(JSONLine.quote($0.key)):\($0.value ? "\"opted_out\"" : "\"opted_in\"")"
                    }.joined(separator: ",") + "}")
            line.addRaw(
                "suppressed", "[" + suppressed.map { JSONLine.quote($0.list) }.joined(separator: ",") + "]")
            Console.out(line.text)
            return
        }
        var table = TextTable(header: ["scope", "state"])
        table.add(["global", prefs.globalOptOut ? "opted out" : "opted in"])
        for c in ChannelKind.allCases {
            table.add([
                "channel:\(c.rawValue)", prefs.channels[c.rawValue] == true ? "opted out" : "opted in",
            ])
        }
        for (t, out) in topics { table.add(["topic:\(t)", out ? "opted out" : "opted in"]) }
        for s in suppressed {
            table.add(["suppressed:\(s.list)", "\(ContactValidator.mask(s.address)) \(s.reason)"])
        }
        table.render().forEach(Console.out)
        if let at = prefs.updatedAt { Console.out("last changed \(TimestampParser.formatUTC(seconds: at))") }
    }
}

/// `herald prefs set USER [--channel C | --topic T | --all] --opt-out|--opt-in`.
struct PrefsSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Opt a user out of (or back in to) a channel, a topic or everything.",
        discussion:
            "Examples:\n  herald prefs set u-1 --topic promotions --opt-out\n  herald prefs set u-1 --all --opt-in"
    )

    /// Opt out or in.
    enum Choice: EnumerableFlag {
        case optOut, optIn
    }

    @OptionGroup var options: ConfigOption
    @Argument(help: "The user id.") var user: String
    @Option(help: "A channel: email, sms, webhook or push.") var channel: String?
    @Option(help: "A topic, e.g. promotions.") var topic: String?
    @Flag(help: "Every message (global).") var all = false
    @Flag(help: "Opt out or back in.") var choice: Choice

    func validate() throws {
        try checkUserArgument(user)
        let given = [channel != nil, topic != nil, all].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --channel C, --topic T or --all") }
        if let channel, ChannelKind(rawValue: channel) == nil {
            throw ValidationError("--channel '\(channel)': expected one of email, sms, webhook, push")
        }
    }

    func run() async throws {
        let context = try HeraldContext.load(options)
        if let topic, let undeclared = context.config.undeclaredTopic(topic) {
            Console.err("error: --topic: \(undeclared.message)")
            if let suggestion = undeclared.suggestion { Console.err("note: \(suggestion)") }
            throw ReportedFailure(code: ExitStatus.usage)
        }
        let store = try await context.openStore()
        guard try await store.profile(id: user) != nil else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let scope: PreferenceScope = channel.map { .channel($0) } ?? topic.map { .topic($0) } ?? .global
        let optedOut = choice == .optOut
        try await store.setPreference(
            userID: user, scope: scope, optedOut: optedOut, at: Int64(Date().timeIntervalSince1970))
        Console.out("\(user): \(scope) \(optedOut ? "opted out" : "opted in")")
    }
}
