import Foundation
import Testing

@testable import HeraldCore

/// Config, campaign and template files: links out of their folder, binary files, oversized files, and how much
/// of a file a diagnostic may show.
@Suite("Config: what is read, and what a diagnostic shows of it")
struct ConfigFileSafetyTests {
    /// Looks like /etc/shadow: every line carries a secret that must never appear in a diagnostic.
    static let secret = "root:$6$SECRET-ROOT-HASH:19000:0:99999:7:::\ndaemon:*:SECRET-DAEMON:0:99999:7:::\n"

    /// A folder outside the campaigns and templates folders holding the secret file.
    static func secretFile() -> URL {
        ConfigFixture.write(secret, to: "etc/shadow", in: ConfigFixture.tempDir())
    }

    static func link(_ name: String, in dir: URL, to target: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: dir.appendingPathComponent(name), withDestinationURL: target)
    }

    static func leaks(_ diags: [Diagnostic]) -> Bool {
        diags.contains { $0.description.contains("SECRET") }
    }

    @Test func aCampaignLinkLeavingTheFolderIsRefusedUnread() throws {
        let (config, _) = ConfigFixture.config()
        let dir = ConfigFixture.tempDir().appendingPathComponent("campaigns")
        try Self.link("x.yaml", in: dir, to: Self.secretFile())
        let (campaigns, diags) = CampaignSet.load(directory: dir.path, config: config)
        #expect(campaigns.isEmpty)
        #expect(diags.count == 1)
        #expect(diags.first?.message.contains("outside the folder") == true, "\(diags)")
        #expect(diags.first?.message.contains("x.yaml") == true)
        #expect(!Self.leaks(diags), "\(diags)")
        // `herald validate campaigns/x.yaml` reads the file the same way.
        let (one, named) = CampaignFile.load(path: dir.appendingPathComponent("x.yaml").path, config: config)
        #expect(one == nil && named.first?.message.contains("outside the folder") == true)
        #expect(!Self.leaks(named))
    }

    @Test func linksInsideTheFolderAndALinkedFolderAreFine() throws {
        let (config, _) = ConfigFixture.config()
        let root = ConfigFixture.tempDir()
        let real = root.appendingPathComponent("real-campaigns")
        ConfigFixture.write(minimalCampaign, to: "drafts/a.txt", in: real)
        try Self.link("a.yaml", in: real, to: real.appendingPathComponent("drafts/a.txt"))
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("campaigns"), withDestinationURL: real)
        let (campaigns, diags) = CampaignSet.load(directory: root.appendingPathComponent("campaigns").path, config: config)
        #expect(diags.isEmpty, "\(diags)")
        #expect(campaigns.map(\.id) == ["test-campaign"])
    }

    @Test func aTemplateLinkLeavingTheTemplatesFolderIsRefused() throws {
        let (config, dir) = ConfigFixture.config(templates: ["inside.txt": "Hello {{first_name}}"])
        let templates = dir.appendingPathComponent("templates")
        try Self.link("evil.txt", in: templates, to: Self.secretFile())
        try Self.link("alias.txt", in: templates, to: templates.appendingPathComponent("inside.txt"))
        func campaign(_ file: String) -> String {
            minimalCampaign.replacingOccurrences(of: "text: \"Hi {{first_name}}\"", with: "text: \(file)")
        }
        let (bad, diags) = CampaignFile.parse(yaml: campaign("evil.txt"), file: "c.yaml", config: config)
        #expect(bad == nil)
        #expect(diags.map(\.message).contains { $0.contains("outside the folder") }, "\(diags)")
        #expect(diags.first?.location?.file == "c.yaml")
        #expect(!Self.leaks(diags))
        let (good, none) = CampaignFile.parse(yaml: campaign("alias.txt"), file: "c.yaml", config: config)
        #expect(none.isEmpty, "\(none)")
        #expect(good?.message.sms?.source == "Hello {{first_name}}")
    }

    /// The same content copied into the folder, and a key file: read, but not echoed line by line.
    @Test(arguments: [secret, "-----BEGIN PRIVATE KEY-----\nMIIEvSECRETQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"])
    func aFileThatIsNotACampaignIsNotEchoed(_ content: String) throws {
        let (config, _) = ConfigFixture.config()
        let dir = ConfigFixture.tempDir()
        ConfigFixture.write(content, to: "x.yaml", in: dir)
        let (_, diags) = CampaignSet.load(directory: dir.path, config: config)
        #expect(diags.map(\.message) == [
            "'\(dir.path)/x.yaml' is not a campaign file: it has none of its top-level keys (id, name, status, …)"
        ])
        #expect(!Self.leaks(diags) && diags.allSatisfy { $0.sourceLine == nil }, "\(diags)")
        let yaml = ConfigFixture.write(content, to: "herald.yaml", in: dir)
        let (none, configDiags) = HeraldConfig.load(path: yaml.path, environment: [:])
        #expect(none == nil && configDiags.count == 1 && !Self.leaks(configDiags), "\(configDiags)")
    }

    @Test func aHugeValueIsQuotedShort() throws {
        let long = String(repeating: "x", count: 5000)
        let (_, diags) = ConfigFixture.parseCampaign(
            minimalCampaign.replacingOccurrences(of: "name: Test", with: "name: Test\nstatus: \(long)"))
        let d = try #require(diags.first)
        #expect(d.message.count < 120, "\(d.message)")
        let lines = d.description.components(separatedBy: "\n")
        #expect(lines.dropFirst().allSatisfy { $0.count <= Diagnostic.maxShownLine + 2 })
    }

    @Test func theCaretLineIsOneLineWithoutControlCharacters() {
        let d = Diagnostic(
            at: SourceLocation(file: "f", line: 1, column: 1), "bad", sourceLine: "a\u{1B}[31mb\u{0}c\nsecond line")
        let lines = d.description.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines[1] == "a\u{FFFD}[31mb\u{FFFD}c")
        #expect(!d.description.contains("second"))
    }

    @Test func aBinaryFileGetsAClearErrorWithoutEcho() throws {
        let (config, _) = ConfigFixture.config()
        let dir = ConfigFixture.tempDir()
        try Data(Array("id: x\nname: ".utf8) + [0, 0, 0] + Array("SECRET-BYTES\n".utf8))
            .write(to: dir.appendingPathComponent("bin.yaml"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("SECRET-PNG".utf8))
            .write(to: dir.appendingPathComponent("png.yaml"))
        let (_, diags) = CampaignSet.load(directory: dir.path, config: config)
        #expect(diags.count == 2, "\(diags)")
        #expect(diags[0].message.contains("bin.yaml' is a binary file"), "\(diags)")
        #expect(diags[1].message == "the file is not valid UTF-8 (byte 0x89)")
        #expect(diags.allSatisfy { $0.sourceLine == nil })
        #expect(!Self.leaks(diags))
    }

    @Test func filesOverTheSizeLimitAreRefusedBeforeParsing() throws {
        let (config, dir) = ConfigFixture.config(
            templates: ["big.html": String(repeating: "<p>x</p>\n", count: ConfigFileReader.maxTemplateBytes / 9 + 1)])
        let campaigns = dir.appendingPathComponent("campaigns")
        let padding = String(repeating: "# padding\n", count: ConfigFileReader.maxYAMLBytes / 10)
        ConfigFixture.write(minimalCampaign + "\n" + padding, to: "big.yaml", in: campaigns)
        let (loaded, diags) = CampaignSet.load(directory: campaigns.path, config: config)
        #expect(loaded.isEmpty)
        #expect(diags.map(\.message) == ["campaign file '\(campaigns.path)/big.yaml' is larger than 1 MiB (the limit for a campaign file); refused unread"])

        let (_, templateDiags) = CampaignFile.parse(
            yaml: minimalCampaign.replacingOccurrences(of: "text: \"Hi {{first_name}}\"", with: "text: big.html"), file: "c.yaml",
            config: config)
        #expect(templateDiags.map(\.message).contains { $0.contains("larger than 256 KiB") }, "\(templateDiags)")

        let yaml = ConfigFixture.write(ConfigFixture.baseYAML + "\n" + padding, to: "herald.yaml", in: dir)
        let (none, configDiags) = HeraldConfig.load(path: yaml.path, environment: [:])
        #expect(none == nil)
        #expect(configDiags.map(\.message) == ["config file '\(yaml.path)' is larger than 1 MiB (the limit for a config file); refused unread"])
    }
}
