import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// A send that went out is recorded promptly even while another send of the same claim is still waiting on its
/// provider: left unrecorded until the claim's lease ended, it would be claimed again and sent twice.
@Suite("Dispatch: outcome writes")
struct DispatchOutcomeFlushTests {
    @Test("a fast send's outcome is written while a slow send of its claim is still out")
    func fastOutcomeIsNotHeldByASlowSend() async throws {
        let dir = NSTemporaryDirectory() + "herald-flush-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try ReceiverProcess(dir)
        let f = try DaemonFixture.make(
            campaigns: [
                "mail.yaml": campaignYAML(id: "mail", trigger: "api: true"),
                // The receiver reads the request and then says nothing: the send waits for its time limit.
                "hook.yaml": campaignYAML(id: "hook", trigger: "api: true", channel: "webhook"),
            ],
            hook: "{ url: \"http://127.0.0.1:\(receiver.port)/fault/stall\", rate: 1000/s }")
        defer { f.remove() }
        try await f.users(["u1"])
        _ = try await f.scheduler.trigger(campaign: "mail", occurrence: "x", users: ["u1"])
        _ = try await f.scheduler.trigger(campaign: "hook", occurrence: "x", users: ["u1"])
        let round = Task { try await f.dispatcher.dispatchOnce() }
        // Polls the ledger (not a timing assertion): the bound is below the stalled send's 15 s time limit, so
        // only a write made while that send is still out can satisfy it.
        let deadline = Date().addingTimeInterval(8)
        var mail: LedgerEntry?
        while Date() < deadline {
            mail = try await f.ledger.entry(key: "mail/api-x/u1/1")
            if mail?.status == .sent { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(mail?.status == .sent, "the email's outcome waited for the stalled webhook")
        #expect(try await f.ledger.entry(key: "hook/api-x/u1/1")?.status == .sending)
        round.cancel()
        _ = try? await round.value
        withExtendedLifetime(receiver) {}
    }
}
