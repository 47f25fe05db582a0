import Foundation
import Testing

@testable import HeraldCore

@Suite("Config: loading a campaigns folder")
struct ConfigCampaignSetTests {
    @Test func duplicatesAndBadFilesAreReportedWithoutHidingOthers() throws {
        let (config, _) = ConfigFixture.config()
        let dir = ConfigFixture.tempDir()
        let ok = minimalCampaign
        ConfigFixture.write(ok, to: "a.yaml", in: dir)
        ConfigFixture.write(ok, to: "b.yaml", in: dir)
        ConfigFixture.write(ok.replacingOccurrences(of: "api: true", with: "cron: \"* * *\""), to: "c.yaml", in: dir)
        ConfigFixture.write(ok.replacingOccurrences(of: "test-campaign", with: "other"), to: "d.yml", in: dir)
        ConfigFixture.write("not a campaign", to: "notes.txt", in: dir)
        try Data(Array("id: x\nname: caf".utf8) + [0xFF]).write(to: dir.appendingPathComponent("e.yaml"))
        ConfigFixture.write("id: [", to: "f.yaml", in: dir)

        let (campaigns, diags) = CampaignSet.load(directory: dir.path, config: config)
        #expect(campaigns.map(\.id) == ["test-campaign", "other"])
        let rendered = diags.map { d in
            "\(URL(fileURLWithPath: d.location?.file ?? "").lastPathComponent):\(d.location?.line ?? 0):\(d.location?.column ?? 0): \(d.message)"
        }
        #expect(rendered.count == 4, "\(rendered)")
        #expect(rendered[0] == "b.yaml:1:1: duplicate campaign id 'test-campaign': also used by \(dir.path)/a.yaml")
        #expect(rendered[1].hasPrefix("c.yaml:6:9: trigger.cron: invalid cron expression '* * *': expected 5 fields"))
        #expect(rendered[2] == "e.yaml:2:10: the file is not valid UTF-8 (byte 0xFF)")
        #expect(rendered[3].hasPrefix("f.yaml:1:6: malformed YAML"))
        #expect(rendered[3].contains("malformed YAML"))
    }

    @Test func missingFolderIsReported() {
        let (config, _) = ConfigFixture.config()
        let (campaigns, diags) = CampaignSet.load(directory: "/nonexistent/campaigns", config: config)
        #expect(campaigns.isEmpty)
        #expect(diags.map(\.message) == ["cannot read the campaigns directory '/nonexistent/campaigns'"])
    }
}
