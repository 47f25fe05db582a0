import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import Testing

/// The push channel through the one pipeline: planning needs an active device, the dispatcher sends to the
/// devices active at send time, and without a provider pushes go to the outbox as JSON (docs/push.md).
@Suite struct PushDaemonTests {
    static let t0 = DaemonFixture.t0
    static let token = "aabbccddeeff0011"

    @Test func usersWithoutAnActiveDeviceAreNoContactAndOthersGetOneJSONFileEach() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "cart", trigger: "schedule: \(at)", channel: "push")])
        defer { f.remove() }
        try await f.users(["u1", "u2", "u3"])
        try await f.store.registerDevices([
            DeviceRegistration(userID: "u1", platform: .ios, token: Self.token),
            DeviceRegistration(userID: "u1", platform: .android, token: "fcm-token-1"),
            DeviceRegistration(userID: "u2", platform: .android, token: "fcm-token-2"),
        ], at: Self.t0)
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 3)
        let planned = try await f.rows()
        #expect(planned.first { $0.user == "u3" }?.reason == SkipReason.noContact.description)
        // u2's only device dies between planning and sending: the dispatcher finds no device and records why.
        try await f.store.deactivateDevice(token: "fcm-token-2", reason: "UNREGISTERED", since: nil, at: Self.t0 + 60)
        #expect(try await f.drain() == 2)
        let rows = try await f.rows()
        #expect(rows.first { $0.user == "u1" }?.status == .sent)
        let u2 = try #require(rows.first { $0.user == "u2" })
        #expect(u2.status == .suppressed && u2.reason == SkipReason.noContact.description)
        let files = f.outbox()
        #expect(files.count == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: f.root + "/var/outbox/" + files[0]))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["channel"] as? String == "push")
        let push = try #require(json["push"] as? [String: Any])
        #expect(push["title"] as? String == "Hi N0")
        #expect(push["collapse_id"] as? String == "cart")
        let key = try #require(rows.first { $0.user == "u1" }?.idempotencyKey)
        #expect((push["data"] as? [String: String]) == ["deep_link": "shop://cart", "herald_key": key])
        // Devices appear by provider and the token's last four characters only.
        let devices = try #require(json["devices"] as? [[String: String]])
        #expect(Set(devices.compactMap { $0["token"] }) == ["…0011", "…en-1"])
        #expect(!String(decoding: data, as: UTF8.self).contains(Self.token))
    }

    @Test func aPushOptOutSuppressesOnlyPush() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "cart", trigger: "schedule: \(at)", channel: "push")])
        defer { f.remove() }
        try await f.users(["u1"])
        try await f.store.registerDevices([DeviceRegistration(userID: "u1", platform: .ios, token: Self.token)], at: Self.t0)
        try await f.store.setPreference(userID: "u1", scope: .channel("push"), optedOut: true, at: Self.t0)
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 1)
        #expect(try await f.rows().first?.reason == SkipReason.optedOutChannel.description)
        #expect(try await f.drain() == 0)
    }
}
