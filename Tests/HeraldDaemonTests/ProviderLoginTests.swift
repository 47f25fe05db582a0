import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging
import Testing

@testable import HeraldDaemon

/// The repository's scripted SMTP server (Tests/Fixtures/smtp_fault.py) in one of its modes, on a free port.
final class FaultSMTPProcess {
    let process = ChildProcess()
    let port: Int
    let dir: String

    init(_ dir: String, mode: String) throws {
        self.dir = dir
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/smtp_fault.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, dir + "/ready", dir, mode]
        process.standardError = FileHandle.nullDevice
        try launchSerialized(process)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: dir + "/ready") {
            guard Date() < deadline, process.isRunning else { throw FixtureError("smtp_fault.py never started") }
            usleep(10_000)
        }
        port = Int(try String(contentsOfFile: dir + "/ready", encoding: .utf8)) ?? 0
    }

    /// The server's event log lines ("connect N", "auth N", "mail N", "end N").
    var events: [String] {
        ((try? String(contentsOfFile: dir + "/events.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A provider that refuses the login is misconfigured: its queued rows go back to the queue with their attempts
/// handed back (never `dead`), its breaker opens at once, and the refusal is logged loudly once (docs/ledger.md).
@Suite(.serialized) struct ProviderLoginTests {
    static let t0 = DaemonFixture.t0

    /// A fixture whose email goes to `smtp_fault.py` in `mode`, logging into `log`.
    static func run(mode: String, login: Bool, _ body: (DaemonFixture, FaultSMTPProcess, CapturedLog) async throws -> Void)
        async throws
    {
        let dir = NSTemporaryDirectory() + "herald-login-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try FaultSMTPProcess(dir, mode: mode)
        try "not-the-password".write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        var email = "url: smtp://127.0.0.1:\(server.port)\n    insecure: true"
        if login { email += "\n    username: herald\n    password_file: \(dir)/password" }
        let log = CapturedLog()
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "news", trigger: "api: true", sendTime: "strategy: immediate\n  within: 2d")],
            email: email, logger: log.logger)
        defer { f.remove() }
        try await f.users(["u1", "u2", "u3", "u4"])
        _ = try await f.scheduler.trigger(campaign: "news", occurrence: "o", users: nil)
        try await body(f, server, log)
    }

    /// The error records that announce a refused login.
    static func loud(_ log: CapturedLog) -> [CapturedLog.Record] {
        log.records.withLock { $0 }.filter { $0.level >= .error && $0.message.contains("refused the login") }
    }

    @Test func smtp535HoldsEveryQueuedEmailAndOpensTheBreaker() async throws {
        try await Self.run(mode: "auth-535", login: true) { f, server, log in
            #expect(try await f.drain() == 4)
            var rows = try await f.rows()
            #expect(rows.count == 4)
            for row in rows {
                #expect(row.status == .scheduled && row.attempts == 0, "\(row.idempotencyKey): \(row.status)")
                #expect(row.reason == "provider_login_refused" && row.error?.contains("535") == true)
                #expect(row.scheduledAt == Self.t0 + 300)
                #expect(row.error?.contains("not-the-password") == false)
            }
            #expect(server.events.contains { $0.hasPrefix("auth") })
            #expect(!server.events.contains { $0.hasPrefix("mail") })
            #expect(Self.loud(log).count == 1)
            let gate = try #require(f.dispatcher.senders.withLock { $0 }.gates[.email])
            #expect(gate.snapshot.breaker.state == .open(until: Double(Self.t0 + 300)))
            #expect(gate.snapshot.refusingLogin)

            // Nothing is tried while the breaker is open; then one probe, refused again: still nothing dead, and
            // no second loud log line.
            f.clock.advance(299)
            #expect(try await f.drain() == 0)
            let logins = server.events.filter { $0.hasPrefix("auth") }.count
            f.clock.advance(1)
            #expect(try await f.drain() >= 4)
            #expect(server.events.filter { $0.hasPrefix("auth") }.count == logins + 1)
            rows = try await f.rows()
            #expect(rows.allSatisfy { $0.status == .scheduled && $0.attempts == 0 })
            #expect(Self.loud(log).count == 1)
        }
    }

    @Test func smtp530OnMailIsALoginFaultToo() async throws {
        try await Self.run(mode: "auth-530-on-mail", login: false) { f, server, log in
            #expect(try await f.drain() == 4)
            let rows = try await f.rows()
            for row in rows {
                #expect(row.status == .scheduled && row.attempts == 0, "\(row.idempotencyKey): \(row.status)")
                #expect(row.error?.contains("530") == true)
            }
            #expect(server.events.contains { $0.hasPrefix("mail") })
            #expect(Self.loud(log).count == 1)
        }
    }
}
