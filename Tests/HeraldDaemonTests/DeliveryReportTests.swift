import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging
import Prometheus
import ServiceLifecycle
import Testing

@testable import HeraldDaemon

/// Kannel delivery reports end to end: the dispatcher sends SMS through a recording gateway (the repository's
/// receiver standing in for Kannel's sendsms), with the dlr-url the daemon signs, and the reports come back
/// through the real API. A report must never make the dispatcher send a message again (docs/ledger.md).
@Suite struct DeliveryReportTests {
    static let t0 = DaemonFixture.t0

    /// The daemon's parts plus a running API over the same store, ledger, signer and clock.
    struct Setup {
        let f: DaemonFixture
        let signer: LinkSigner
        let receiver: ReceiverProcess
        let dir: String
        let base: String

        /// Sends a request to the API.
        func call(_ path: String, method: HTTPRequest.Method = .post) async throws -> HTTPResponse {
            try await f.engine.send(HTTPRequest(method: method, url: base + path, timeout: .seconds(20)))
        }

        /// The sendsms requests the gateway received, as (recipient, dlr-url) pairs.
        func sends() throws -> [(to: String, dlr: String)] {
            let text = (try? String(contentsOfFile: dir + "/record.jsonl", encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let query = try #require(object["query"] as? String)
                let items = try #require(URLComponents(string: "http://x/?" + query)?.queryItems)
                let value = { (name: String) in items.first { $0.name == name }?.value ?? "" }
                return (value("to"), value("dlr-url"))
            }
        }

        /// The signed `t` token of a dlr-url.
        static func token(_ dlr: String) throws -> String {
            try #require(URLComponents(string: dlr)?.queryItems?.first { $0.name == "t" }?.value)
        }
    }

    /// Runs `body` with a fixture whose SMS go to a recording gateway and an API answering its reports.
    static func run(_ body: (Setup) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "herald-dlr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try ReceiverProcess(dir)
        let signer = LinkSigner(key: Array(repeating: 7, count: 32))
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "promo", trigger: "api: true", channel: "sms")],
            sms: "url: http://127.0.0.1:\(receiver.port)/cgi-bin/sendsms", signer: signer)
        defer { f.remove() }
        let c = f.book.current.config
        var api = c.api
        api.port = 0
        let config = HeraldConfig(
            file: c.file, baseDirectory: c.baseDirectory, store: c.store, campaignsDirectory: c.campaignsDirectory,
            templatesDirectory: c.templatesDirectory, api: api, lifecycle: c.lifecycle, attributes: c.attributes,
            segments: c.segments, catalog: c.catalog, policy: c.policy, channels: c.channels)
        var logger = Logger(label: "herald.api.test")
        logger.logLevel = .warning
        let deps = APIDependencies(
            config: config, store: f.store, ledger: f.ledger, backend: RecordingBackend(store: f.store), signer: signer,
            apiToken: "unused-token-0123456789", smsInboundSecret: nil, twilioAuthToken: nil,
            metrics: PrometheusCollectorRegistry(), logger: logger, clock: { [clock = f.clock] in clock.now })
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = HeraldAPI.makeApplication(deps, onServerRunning: { continuation.yield($0) })
        let services = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let setup = Setup(f: f, signer: signer, receiver: receiver, dir: dir, base: "http://127.0.0.1:\(port)")
            do {
                try await body(setup)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// Moves the clock day by day for `days` days, running the dispatcher each time; returns the rows it handled.
    static func dispatchFor(days: Int, _ f: DaemonFixture) async throws -> Int {
        var handled = 0
        for _ in 0..<days {
            f.clock.advance(86_400)
            handled += try await f.drain()
        }
        return handled
    }

    @Test func replayedReportsNeverResendTheMessage() async throws {
        try await Self.run { s in
            try await s.f.users(["u1", "u2"])
            _ = try await s.f.scheduler.trigger(campaign: "promo", occurrence: "sale", users: nil)
            #expect(try await s.f.drain() == 2)
            let sent = try s.sends()
            #expect(sent.count == 2)
            let token = try Setup.token(try #require(sent.first { $0.to == "+15550000000" }).dlr)
            let key = "promo/api-sale/u1/1"
            #expect(try await s.f.ledger.entry(key: key)?.status == .sent)

            // The attack of the issue: status=16, then status=2, replayed.
            #expect(try await s.call("/dlr/kannel?t=\(token)&status=16").text == "recorded\n")
            for _ in 0..<3 {
                for status in [1, 16, 2] {
                    let r = try await s.call("/dlr/kannel?t=\(token)&status=\(status)", method: .get)
                    #expect(r.status == 200 && r.text == "unchanged\n", "status=\(status): \(r.text)")
                }
            }
            let row = try #require(try await s.f.ledger.entry(key: key))
            #expect(row.status == .bounced && row.reason == "dlr:bounced" && row.attempts == 1)
            // A dispatch round at once (a failed row would be due now), then six days of them: nothing is claimed.
            #expect(try await s.f.drain() == 0)
            #expect(try await Self.dispatchFor(days: 6, s.f) == 0)
            #expect(try s.sends().filter { $0.to == "+15550000000" }.count == 1)
            #expect(try await s.f.ledger.history(key: key).map(\.to) == [.scheduled, .sending, .sent, .bounced])
        }
    }

    @Test func aGenuineFailureOrAnyForgedStatusIsFinal() async throws {
        try await Self.run { s in
            try await s.f.users(["u1"])
            _ = try await s.f.scheduler.trigger(campaign: "promo", occurrence: "sale", users: nil)
            #expect(try await s.f.drain() == 1)
            let token = try Setup.token(try #require(try s.sends().first).dlr)
            let key = "promo/api-sale/u1/1"
            // The holder of a genuine dlr-url chooses `status`: every value, valid or not, is tried.
            #expect(try await s.call("/dlr/kannel?t=\(token)&status=2").text == "recorded\n")
            // A genuine failure report is final: the next dispatch round does not take the row again.
            #expect(try await s.f.drain() == 0)
            #expect(try s.sends().count == 1)
            for status in ["1", "2", "4", "8", "16", "0", "-1", "31", "99999999999999999999", "x"] {
                let r = try await s.call("/dlr/kannel?t=\(token)&status=\(status)")
                #expect(r.status == 200 || r.status == 400, "status=\(status): \(r.status) \(r.text)")
                #expect(r.text != "recorded\n", "status=\(status)")
            }
            let row = try #require(try await s.f.ledger.entry(key: key))
            #expect(row.status == .bounced && row.reason == "dlr:failed" && row.error == "kannel dlr status 2")
            #expect(try await s.f.drain() == 0)
            #expect(try await Self.dispatchFor(days: 6, s.f) == 0)
            #expect(try s.sends().count == 1)
            // The token is bound to its row: it names the key, which no other row has.
            #expect(s.signer.verify(token)?.key == key)
        }
    }

    @Test func expiredAndNonExpiringReportTokensAreRefused() async throws {
        try await Self.run { s in
            try await s.f.users(["u1", "u2"])
            _ = try await s.f.scheduler.trigger(campaign: "promo", occurrence: "sale", users: nil)
            #expect(try await s.f.drain() == 2)
            let tokens = try s.sends().sorted { $0.to < $1.to }.map { try Setup.token($0.dlr) }
            let payload = try #require(s.signer.verify(tokens[0]))
            #expect(payload.expiresAt == Self.t0 + LinkPayload.deliveryReportLifetime)

            // A token issued before tokens expired (no expiry in it) is refused, whatever it says.
            let legacy = s.signer.token(LinkPayload(kind: .dlr, user: "", campaign: "", key: "promo/api-sale/u2/1"))
            let old = try await s.call("/dlr/kannel?t=\(legacy)&status=16")
            #expect(old.status == 410 && old.text.contains("expired"))
            #expect(try await s.f.ledger.entry(key: "promo/api-sale/u2/1")?.status == .sent)

            // Accepted up to its expiry, refused one second later.
            s.f.clock.set(payload.expiresAt! + 1)
            let late = try await s.call("/dlr/kannel?t=\(tokens[0])&status=1")
            #expect(late.status == 410, "\(late.text)")
            #expect(try await s.f.ledger.entry(key: "promo/api-sale/u1/1")?.status == .sent)
            s.f.clock.set(payload.expiresAt!)
            #expect(try await s.call("/dlr/kannel?t=\(tokens[1])&status=1").text == "recorded\n")
            #expect(try await s.f.ledger.entry(key: "promo/api-sale/u2/1")?.status == .delivered)
        }
    }
}
