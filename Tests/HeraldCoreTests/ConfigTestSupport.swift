import Foundation
import Testing

@testable import HeraldCore

/// Shared fixtures for the Config tests.
enum ConfigFixture {
    /// The repository root, found from this file's path.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh temporary directory.
    static func tempDir() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-config-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `text` to `dir/name`, creating folders.
    @discardableResult
    static func write(_ text: String, to name: String, in dir: URL) -> URL {
        let url = dir.appendingPathComponent(name)
        try? FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static let baseYAML = """
        store: { sqlite: var/test.db }
        templates: templates
        attributes:
          first_name: string
          country: string
          avg_order_value: number
          tags: list
        topics: [promotions, reminders]
        segments:
          vip: rfm_m >= 4
        policy:
          default_timezone: UTC
        channels:
          webhook:
            endpoints:
              push-gateway: { rate: 10/s }
        """

    /// A config whose templates directory holds `templates` (name → text).
    static func config(templates: [String: String] = [:]) -> (HeraldConfig, URL) {
        let dir = tempDir()
        for (name, text) in templates { write(text, to: "templates/\(name)", in: dir) }
        try? FileManager.default.createDirectory(
            at: dir.appendingPathComponent("templates"), withIntermediateDirectories: true)
        let (config, diags) = HeraldConfig.parse(
            yaml: baseYAML, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        precondition(config != nil, "fixture config invalid: \(diags)")
        return (config!, dir)
    }

    /// Parses a herald.yaml text relative to a temp dir.
    static func parseConfig(_ yaml: String, env: [String: String] = [:], base: URL? = nil) -> (HeraldConfig?, [Diagnostic]) {
        HeraldConfig.parse(yaml: yaml, file: "herald.yaml", baseDirectory: (base ?? tempDir()).path, environment: env)
    }

    /// Parses a campaign text against the fixture config.
    static func parseCampaign(_ yaml: String, templates: [String: String] = [:]) -> (Campaign?, [Diagnostic]) {
        let (config, _) = config(templates: templates)
        return CampaignFile.parse(yaml: yaml, file: "c.yaml", config: config)
    }

    /// `LINE:COL: message` of each error, for compact assertions.
    static func brief(_ diags: [Diagnostic]) -> [String] {
        diags.map { d in "\(d.location.map { "\($0.line):\($0.column)" } ?? "-"): \(d.message)" }
    }
}

/// A minimal valid campaign body to build variants from.
let minimalCampaign = """
    id: test-campaign
    name: Test
    audience:
      segment: lifecycle == "active"
    trigger:
      api: true
    message:
      channel: sms
      sms:
        text: "Hi {{first_name}}"
    """
