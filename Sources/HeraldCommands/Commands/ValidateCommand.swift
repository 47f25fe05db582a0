import ArgumentParser
import Foundation
import HeraldCore

/// `herald validate [PATH…]`: checks herald.yaml and campaign files, reporting every problem.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate herald.yaml and campaign files; every problem in every file is reported.",
        discussion: """
            With no PATH: the config and every campaign in its campaigns folder.
            A PATH may be a campaign file or a folder of them; they are checked against the config.
            Exit 0 when valid, 65 on any error.
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "Campaign files or folders (default: the config's campaigns folder).") var paths: [String] = []

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        guard let configPath = HeraldConfig.locate(explicit: options.config, environment: env) else {
            Console.err(
                "error: no herald.yaml found: pass --config PATH, set HERALD_CONFIG, or create ./herald.yaml")
            throw ReportedFailure(code: ExitStatus.usage)
        }
        var diagnostics: [Diagnostic] = []
        let (loaded, configDiagnostics) = HeraldConfig.load(path: configPath, environment: env)
        diagnostics += configDiagnostics
        guard let config = loaded else {
            report(diagnostics)
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        var campaignCount = 0
        var journeyCount = 0
        let targets = paths.isEmpty ? [config.campaignsDirectory] : paths
        var seen: [String: String] = [:]
        for target in targets {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
                diagnostics.append(Diagnostic(at: nil, "\(target): no such file or folder"))
                continue
            }
            var campaigns: [Campaign] = []
            if isDirectory.boolValue {
                let loaded = CampaignSet.loadAll(directory: target, config: config)
                campaigns = loaded.campaigns
                journeyCount += loaded.journeys.count
                diagnostics += loaded.diagnostics
            } else {
                let (campaign, found) = CampaignFile.load(path: target, config: config)
                campaigns = campaign.map { [$0] } ?? []
                diagnostics += found
            }
            for c in campaigns {
                if let other = seen[c.id], !isDirectory.boolValue {
                    diagnostics.append(Diagnostic(at: nil, "campaign id '\(c.id)' is used by \(other) and \(c.file)"))
                }
                seen[c.id] = c.file
            }
            campaignCount += campaigns.count
        }
        let failed = report(diagnostics)
        if failed { throw ReportedFailure(code: ExitStatus.invalidInput) }
        let journeys = journeyCount == 0 ? "" : ", \(journeyCount) journey\(journeyCount == 1 ? "" : "s")"
        Console.out("\(configPath): ok; \(campaignCount) campaign\(campaignCount == 1 ? "" : "s")\(journeys) ok")
    }
}
