import Foundation
import Glibc
import HeraldDelivery
import Testing

/// heraldd as a process under a NOTIFY_SOCKET the test controls: READY, WATCHDOG, reload (good and broken)
/// and STOPPING, as systemd would see them.
@Suite(.serialized) struct DaemonProcessTests {
    /// A project folder with one valid campaign; returns its path (the API's port is in `port(root)`).
    static func project() throws -> String {
        let root = NSTemporaryDirectory() + "heraldd-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/campaigns", withIntermediateDirectories: true)
        try """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:\(try freePort())
            attributes:
              country: string
              first_name: string
            topics: [promotions]
            channels:
              outbox: var/outbox
              email:
                from: "Shop <news@shop.example>"
              webhook:
                endpoints:
                  hook: {}
            """.write(toFile: root + "/herald.yaml", atomically: true, encoding: .utf8)
        try campaignYAML(id: "kept", trigger: "api: true").write(
            toFile: root + "/campaigns/kept.yaml", atomically: true, encoding: .utf8)
        return root
    }

    /// Starts heraldd on `root` with `environment` added; stderr goes to `root/heraldd.log`.
    static func start(_ root: String, _ environment: [String: String]) throws -> ChildProcess {
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: BuiltProducts.heraldd)
        p.arguments = ["--config", root + "/herald.yaml"]
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: root + "/heraldd.log", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: root + "/heraldd.log")
        try launchSerialized(p)
        return p
    }

    @Test func notifiesReadyWatchdogReloadingAndStopping() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let listener = try NotifyListener(abstract: true)
        let daemon = try Self.start(root, listener.environment.merging(["WATCHDOG_USEC": "400000"]) { $1 })
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let log = { (try? String(contentsOfFile: root + "/heraldd.log", encoding: .utf8)) ?? "" }

        let first = await listener.collect(until: { $0.contains("READY=1") }, timeout: .seconds(90))
        #expect(first.last?.contains("READY=1") == true, "no READY=1; log:\n\(log())")
        let beat = await listener.collect(until: { $0.contains("WATCHDOG=1") }, timeout: .seconds(90))
        #expect(beat.last?.contains("WATCHDOG=1") == true)
        #expect(beat.last?.contains("STATUS=queue") == true)

        // A campaign broken on disk, then SIGHUP: refused with FILE:LINE:COL, the old set stays live.
        try campaignYAML(id: "broken", trigger: "api: true", segment: "contry == \"US\"").write(
            toFile: root + "/campaigns/broken.yaml", atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        let reload = await listener.collect(until: { $0.contains("READY=1") }, timeout: .seconds(90))
        #expect(reload.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }, "\(reload)")
        #expect(reload.last?.contains("reload refused") == true, "\(reload)")
        #expect(log().contains(root + "/campaigns/broken.yaml:6:12: error:"), "log:\n\(log())")
        #expect(log().contains("country"), "a near-miss suggestion")
        #expect(log().contains("keeping the previous config and 1 campaigns"))
        #expect(daemon.isRunning)
        // The old set keeps running: its api campaign still triggers, over the generated bearer token.
        let yaml = try String(contentsOfFile: root + "/herald.yaml", encoding: .utf8)
        let listen = try #require(yaml.split(separator: "\n").first { $0.contains("listen:") })
            .split(separator: " ").last.map(String.init) ?? ""
        let token = try String(contentsOfFile: root + "/var/api-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let triggered = try await engine.send(
            HTTPRequest(
                method: .post, url: "http://\(listen)/v1/campaigns/kept/trigger",
                headers: [HeaderField("Authorization", "Bearer " + token), HeaderField("Content-Type", "application/json")],
                body: Array("{}".utf8)))
        #expect(triggered.status == 200, "\(triggered.text)")
        let metrics = try await engine.send(HTTPRequest(url: "http://\(listen)/metrics"))
        #expect(metrics.text.contains("herald_queue_pending"), "\(metrics.text)")
        #expect(metrics.text.contains("herald_http_requests_total"))

        // Fixed on disk, then SIGHUP: the new set is live.
        try campaignYAML(id: "broken", trigger: "api: true").write(
            toFile: root + "/campaigns/broken.yaml", atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        let fixed = await listener.collect(until: { $0.contains("READY=1") }, timeout: .seconds(90))
        #expect(fixed.last?.contains("STATUS=reloaded") == true, "\(fixed)")
        #expect(log().contains("campaigns=2"))

        kill(daemon.processIdentifier, SIGTERM)
        let stop = await listener.collect(until: { $0.contains("STOPPING=1") }, timeout: .seconds(90))
        #expect(stop.last?.contains("STOPPING=1") == true)
        let deadline = Date().addingTimeInterval(10)
        while daemon.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!daemon.isRunning, "heraldd did not exit within 10 s of SIGTERM")
        if !daemon.isRunning { #expect(daemon.terminationStatus == 0) }
    }

    @Test func aSecondDaemonOnTheSameStoreRefusesToStart() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let listener = try NotifyListener(abstract: true)
        let first = try Self.start(root, listener.environment)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        _ = await listener.collect(until: { $0.contains("READY=1") }, timeout: .seconds(90))
        let second = ChildProcess()
        second.executableURL = URL(fileURLWithPath: BuiltProducts.heraldd)
        second.arguments = ["--config", root + "/herald.yaml"]
        let err = Pipe()
        second.standardError = err
        try launchSerialized(second)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus == 69)
        #expect(text.contains("another heraldd is running"))
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
    }
}
