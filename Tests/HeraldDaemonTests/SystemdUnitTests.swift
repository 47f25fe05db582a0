import Foundation
import HeraldCore
import Testing

/// The files under `systemd/`: the unit passes `systemd-analyze verify` and carries what README.md and §8
/// promise; the example config loads with the credentials the unit provides.
@Suite struct SystemdUnitTests {
    /// The repository's `systemd/` folder.
    static let folder = BuiltProducts.repository + "/systemd"

    /// The unit's `Key=Value` lines by section, in file order (keys may repeat).
    static func unit() throws -> [String: [(key: String, value: String)]] {
        let text = try String(contentsOfFile: folder + "/heraldd.service", encoding: .utf8)
        var sections: [String: [(key: String, value: String)]] = [:]
        var current = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast())
            } else if let eq = line.firstIndex(of: "=") {
                sections[current, default: []].append(
                    (String(line[..<eq]), String(line[line.index(after: eq)...])))
            }
        }
        return sections
    }

    /// The credential ids of the unit's `LoadCredential=` lines.
    static func credentialIDs() throws -> [String] {
        try unit()["Service", default: []].filter { $0.key == "LoadCredential" }.map {
            String($0.value.prefix { $0 != ":" })
        }
    }

    @Test func unitDeclaresNotifyWatchdogCredentialsAndHardening() throws {
        let service = try Self.unit()["Service", default: []]
        func values(_ key: String) -> [String] { service.filter { $0.key == key }.map(\.value) }
        #expect(values("Type") == ["notify"])
        #expect(values("NotifyAccess") == ["main"])
        #expect(values("WatchdogSec") == ["30"])
        #expect(values("Restart") == ["on-failure"])
        #expect(values("TimeoutStopSec") == ["15"])
        #expect(values("DynamicUser") == ["yes"])
        #expect(values("StateDirectory") == ["herald"])
        #expect(values("ConfigurationDirectory") == ["herald"])
        #expect(values("NoNewPrivileges") == ["yes"])
        #expect(values("ProtectSystem") == ["strict"])
        #expect(values("MemoryDenyWriteExecute") == ["yes"])
        #expect(values("ExecReload") == ["/bin/kill -HUP $MAINPID"])
        #expect(values("ExecStart") == ["/usr/bin/heraldd --config /etc/herald/herald.yaml"])
        #expect(values("Environment").isEmpty, "secrets go through LoadCredential=, never Environment=")
        let ids = try Self.credentialIDs()
        for id in ["api-token", "smtp-password", "sms-password", "webhook-push-gateway", "signing-key"] {
            #expect(ids.contains(id), "LoadCredential=\(id) is missing")
        }
        #expect(try Self.unit()["Install", default: []].contains { $0 == ("WantedBy", "multi-user.target") })
    }

    @Test func unitPassesSystemdAnalyzeVerify() throws {
        let analyze = try Self.tool("systemd-analyze")
        // verify insists that ExecStart's binary exists: point it at the heraldd just built.
        let heraldd = BuiltProducts.heraldd
        try #require(FileManager.default.isExecutableFile(atPath: heraldd), "no built heraldd at \(heraldd)")
        let dir = NSTemporaryDirectory() + "herald-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: Self.folder + "/heraldd.service", encoding: .utf8)
        let rewritten = text.replacingOccurrences(
            of: "ExecStart=/usr/bin/heraldd ", with: "ExecStart=\(heraldd) ")
        #expect(rewritten != text)
        let unit = dir + "/heraldd.service"
        try rewritten.write(toFile: unit, atomically: true, encoding: .utf8)

        let (status, stderr) = try Self.run(analyze, ["verify", "--man=no", unit])
        #expect(status == 0, "systemd-analyze verify failed:\n\(stderr)")
        let complaints = stderr.split(separator: "\n").filter { $0.contains("heraldd.service") }
        #expect(
            complaints.isEmpty, "systemd-analyze verify complained:\n\(complaints.joined(separator: "\n"))")

        // Keep the hardening where `systemd-analyze security` rates it "OK" (exposure 2.0 or less).
        let (score, report) = try Self.run(analyze, ["security", "--offline=yes", "--threshold=20", unit])
        #expect(score == 0, "systemd-analyze security rates the unit worse than 2.0:\n\(report)")
    }

    @Test func tmpfilesCreatesTheCampaignFolderAndCredentialStores() throws {
        let tmpfiles = try Self.tool("systemd-tmpfiles")
        let root = NSTemporaryDirectory() + "herald-root-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (status, stderr) = try Self.run(
            tmpfiles, ["--create", "--root=\(root)", Self.folder + "/herald.tmpfiles"])
        #expect(status == 0 && stderr.isEmpty, "systemd-tmpfiles failed:\n\(stderr)")
        for (dir, mode) in [
            ("etc/herald/campaigns", 0o755), ("etc/herald/templates", 0o755), ("etc/credstore", 0o700),
            ("etc/credstore.encrypted", 0o700),
        ] {
            let attributes = try FileManager.default.attributesOfItem(atPath: root + "/" + dir)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(dir)")
        }
    }

    /// The path of a systemd tool; a missing one fails the test with the package to install.
    static func tool(_ name: String) throws -> String {
        try #require(
            ["/usr/bin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "\(name) is not installed: install the Debian package `systemd` (apt-get install systemd)")
    }

    /// Runs `tool ARGS` (with `extra` added to the environment) and returns its exit status and its output (standard error and output together).
    static func run(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) throws
        -> (
            Int32, String
        )
    {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_LOG_COLOR"] = "0"
        environment["SYSTEMD_LOG_LEVEL"] = "notice"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try launchSerialized(process)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func exampleConfigLoadsWithTheUnitsCredentialsAndTheExampleCampaigns() throws {
        // An install in a scratch root: tmpfiles makes /etc/herald, the README's copy steps fill it.
        let root = NSTemporaryDirectory() + "herald-install-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        let (status, stderr) = try Self.run(
            Self.tool("systemd-tmpfiles"), ["--create", "--root=\(root)", Self.folder + "/herald.tmpfiles"])
        #expect(status == 0, "systemd-tmpfiles failed:\n\(stderr)")
        let etc = root + "/etc/herald"
        for folder in ["campaigns", "templates"] {
            for file in try fm.contentsOfDirectory(atPath: BuiltProducts.repository + "/" + folder) {
                try fm.copyItem(
                    atPath: BuiltProducts.repository + "/\(folder)/\(file)",
                    toPath: etc + "/\(folder)/\(file)")
            }
        }
        let yaml = try String(contentsOfFile: Self.folder + "/herald.yaml", encoding: .utf8)
        try yaml.replacingOccurrences(of: "/etc/herald/", with: etc + "/")
            .write(toFile: etc + "/herald.yaml", atomically: true, encoding: .utf8)

        // Every credential the config names must be one the unit loads; systemd would put them here.
        let ids = try Self.credentialIDs()
        let named = yaml.components(separatedBy: "${CREDENTIALS_DIRECTORY}/").dropFirst().map {
            String($0.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" })
        }
        #expect(!named.isEmpty)
        for name in named {
            #expect(ids.contains(name), "herald.yaml reads credential '\(name)' that the unit does not load")
        }
        let credentials = root + "/run/credentials/heraldd.service"
        try fm.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        for id in ids {
            try "secret-\(id)\n".write(toFile: credentials + "/" + id, atomically: true, encoding: .utf8)
        }

        let (config, diagnostics) = HeraldConfig.load(
            path: etc + "/herald.yaml", environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description))")
        let loaded = try #require(config)
        #expect(loaded.store == .sqlite(path: "/var/lib/herald/herald.db"))
        #expect(loaded.campaignsDirectory == etc + "/campaigns")
        #expect(loaded.api.tokenFile == credentials + "/api-token")
        #expect(loaded.channels.outbox == "/var/lib/herald/outbox")
        let (campaigns, journeys, problems) = CampaignSet.loadAll(
            directory: loaded.campaignsDirectory, config: loaded)
        #expect(problems.isEmpty, "\(problems.map(\.description))")
        let files = try fm.contentsOfDirectory(atPath: BuiltProducts.repository + "/campaigns")
        #expect(campaigns.count + journeys.count == files.filter { $0.hasSuffix(".yaml") }.count)
    }
}
