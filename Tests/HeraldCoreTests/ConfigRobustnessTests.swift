import Foundation
import Testing

@testable import HeraldCore

@Suite("Config: damaged files never crash the loader")
struct ConfigRobustnessTests {
    static let exampleNames = [
        "winback-dormant.yaml", "onboarding.yaml", "birthday-sms.yaml", "vip-offer.yaml", "cart-recovery.yaml",
        "winback-journey.yaml",
    ]

    /// Every diagnostic of a file points at a line of that file and carries its text.
    func checkLocated(_ diags: [Diagnostic], file: String, lineCount: Int) {
        for d in diags {
            guard let l = d.location, l.file == file else { continue }
            #expect((1...max(1, lineCount)).contains(l.line), "\(d)")
            #expect(l.column >= 1, "\(d)")
        }
    }

    @Test(arguments: exampleNames)
    func truncatedAndLineDroppedCampaignsAreDiagnosed(name: String) throws {
        let root = ConfigFixture.repoRoot
        let (config, _) = HeraldConfig.load(path: root.appendingPathComponent("herald.yaml").path, environment: [:])
        let c = try #require(config)
        let text = try String(contentsOf: root.appendingPathComponent("campaigns/\(name)"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for drop in lines.indices {
            var copy = lines
            copy.remove(at: drop)
            let damaged = copy.joined(separator: "\n")
            let (_, diags) = CampaignFile.parse(yaml: damaged, file: name, config: c)
            checkLocated(diags, file: name, lineCount: copy.count)
        }
        for cut in stride(from: 0, to: text.count, by: 7) {
            let damaged = String(text.prefix(cut))
            let (campaign, diags) = CampaignFile.parse(yaml: damaged, file: name, config: c)
            if campaign == nil { #expect(diags.hasErrors) }
            checkLocated(diags, file: name, lineCount: damaged.split(separator: "\n", omittingEmptySubsequences: false).count)
        }
    }

    @Test func truncatedConfigsAreDiagnosed() throws {
        let root = ConfigFixture.repoRoot
        let text = try String(contentsOf: root.appendingPathComponent("herald.yaml"), encoding: .utf8)
        for cut in stride(from: 0, to: text.count, by: 5) {
            let damaged = String(text.prefix(cut))
            let (config, diags) = HeraldConfig.parse(
                yaml: damaged, file: "h.yaml", baseDirectory: root.path, environment: [:])
            if config == nil { #expect(diags.hasErrors) }
            checkLocated(diags, file: "h.yaml", lineCount: damaged.split(separator: "\n", omittingEmptySubsequences: false).count)
        }
    }
}
