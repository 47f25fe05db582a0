import HeraldCore
import HeraldIngest
import HeraldLedger
import Testing

/// The push device registry, the same on both backends (docs/push.md, "Devices").
@Suite struct DeviceStoreTests {
    static let t0: Int64 = 1_764_000_000
    static let ios = "aabbccddeeff0011"
    static let web = "https://fcm.googleapis.com/fcm/send/abc"

    @Test(arguments: TestBackend.all)
    func registeringCountsActiveDevicesInTheProfileAndSnapshot(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            _ = try await store.upsertUsers([UserUpsert(id: "u1"), UserUpsert(id: "u2")])
            try await store.registerDevices([
                DeviceRegistration(userID: "u1", platform: .ios, token: Self.ios),
                DeviceRegistration(userID: "u1", platform: .web, token: Self.web, p256dh: "k", auth: "a"),
            ], at: Self.t0)
            // A device for a user the store does not have yet creates the user.
            try await store.registerDevices([DeviceRegistration(userID: "new", platform: .android, token: "fcm-1")], at: Self.t0 + 5)
            #expect(try await store.profile(id: "u1")?.pushDevices == 2)
            #expect(try await store.profile(id: "u2")?.pushDevices == 0)
            #expect(try await store.profile(id: "new")?.pushDevices == 1)
            let s = try await store.snapshot(SnapshotRequirements())
            let rows = Dictionary(uniqueKeysWithValues: s.ids.enumerated().map { ($1, $0) })
            #expect(s.pushDevices(row: rows["u1"]!) == 2)
            #expect(s.pushDevices(row: rows["u2"]!) == 0)
            #expect(s.pushDevices(row: rows["new"]!) == 1)
            let devices = try await store.devices(userID: "u1")
            #expect(Set(devices.map(\.registration.token)) == [Self.ios, Self.web])
            #expect(devices.first { $0.registration.platform == .web }?.registration.p256dh == "k")
        }
    }

    @Test(arguments: TestBackend.all)
    func aDeadTokenIsDeactivatedUnlessRegisteredAfterTheProvidersTimestamp(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            try await store.registerDevices([DeviceRegistration(userID: "u1", platform: .ios, token: Self.ios)], at: Self.t0)
            // APNs last knew it dead before it was registered: it stays active.
            #expect(try await !store.deactivateDevice(token: Self.ios, reason: "Unregistered", since: Self.t0 - 1, at: Self.t0 + 10))
            #expect(try await store.profile(id: "u1")?.pushDevices == 1)
            // Dead since after the registration: deactivated, with its reason.
            #expect(try await store.deactivateDevice(token: Self.ios, reason: "Unregistered", since: Self.t0 + 5, at: Self.t0 + 10))
            #expect(try await store.profile(id: "u1")?.pushDevices == 0)
            let dead = try #require(try await store.devices(userID: "u1").first)
            #expect(!dead.active && dead.deactivatedReason == "Unregistered" && dead.deactivatedAt == Self.t0 + 10)
            #expect(try await store.activeDevices(users: ["u1"], limit: 10).isEmpty)
            // The app registers the token again: it is alive.
            try await store.registerDevices([DeviceRegistration(userID: "u1", platform: .ios, token: Self.ios)], at: Self.t0 + 20)
            #expect(try await store.activeDevices(users: ["u1"], limit: 10)["u1"]?.count == 1)
            #expect(try await store.profile(id: "u1")?.pushDevices == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func aTokenMovesBetweenUsersAndRemovalForgetsIt(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            try await store.registerDevices([DeviceRegistration(userID: "a", platform: .android, token: "shared")], at: Self.t0)
            try await store.registerDevices([DeviceRegistration(userID: "b", platform: .android, token: "shared")], at: Self.t0 + 1)
            #expect(try await store.profile(id: "a")?.pushDevices == 0)
            #expect(try await store.profile(id: "b")?.pushDevices == 1)
            #expect(try await store.removeDevice(token: "shared"))
            #expect(try await !store.removeDevice(token: "shared"))
            #expect(try await store.profile(id: "b")?.pushDevices == 0)
            #expect(try await !store.deactivateDevice(token: "unknown", reason: "x", since: nil, at: Self.t0))
        }
    }

    @Test(arguments: TestBackend.all)
    func activeDevicesAreTheNewestFirstUpToTheLimit(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            for i in 0..<12 {
                try await store.registerDevices([DeviceRegistration(userID: "u1", platform: .android, token: "t\(i)")],
                                                at: Self.t0 + Int64(i))
            }
            let active = try #require(try await store.activeDevices(users: ["u1", "nobody"], limit: DeviceLimits.perPush)["u1"])
            #expect(active.map(\.registration.token) == (2..<12).reversed().map { "t\($0)" })
            #expect(try await store.profile(id: "u1")?.pushDevices == 12)
        }
    }

    @Test(arguments: TestBackend.all)
    func usersNDJSONAndSegmentImportsRegisterDevices(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let users = try backend.dir.write("u.ndjson", """
                {"id":"u1","devices":[{"platform":"ios","token":"\(Self.ios)"},{"platform":"web","subscription":{"endpoint":"\(Self.web)","keys":{"p256dh":"k","auth":"a"}}}]}
                {"id":"u2","devices":[{"platform":"ios","token":"not hex"}]}
                {"id":"u3","devices":[{"platform":"fax","token":"1"}]}

                """)
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: users, format: .ndjson)
            #expect(report.inserted == 1 && report.rejected == 2)
            #expect(report.diagnostics.map { $0.location?.line } == [2, 3])
            #expect(report.diagnostics.first?.message.contains("devices[0].token") == true)
            #expect(try await store.profile(id: "u1")?.pushDevices == 2)
            let segment = try backend.dir.write("s.ndjson", """
                {"type":"identify","userId":"u4","traits":{},"context":{"device":{"token":"fcm-4","type":"android"}}}
                {"type":"track","userId":"u5","event":"app_open","timestamp":"2025-11-24T10:00:00Z","context":{"device":{"token":"\(Self.ios)5","type":"ios"}}}

                """)
            _ = try await Importer(store: store, schema: testSchema).importUsers(path: segment, format: .segment)
            #expect(try await store.devices(userID: "u4").map(\.registration.platform) == [.android])
            #expect(try await store.devices(userID: "u5").map(\.registration.token) == [Self.ios + "5"])
        }
    }
}

/// Operators' switches, the same on both backends.
@Suite struct ControlStoreTests {
    @Test(arguments: TestBackend.all)
    func switchesAreSetClearedAndReadBack(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            #expect(try await ledger.controls() == CampaignControls())
            try await ledger.setControl(subject: "promo", kind: .paused, on: true, by: "console", reason: "typo", at: 10)
            try await ledger.setControl(subject: "promo", kind: .rolloutHalted, on: true, by: "guardrail", reason: "unsubscribe_rate 0.9%", at: 11)
            try await ledger.setControl(subject: "promo", kind: .paused, on: true, by: "cli", reason: nil, at: 12)
            var controls = try await ledger.controls()
            #expect(controls.paused["promo"] == CampaignControls.Note(at: 12, by: "cli"))
            #expect(controls.haltedRollouts["promo"]?.reason == "unsubscribe_rate 0.9%")
            try await ledger.setControl(subject: "promo", kind: .paused, on: false, by: "cli", reason: nil, at: 13)
            controls = try await ledger.controls()
            #expect(controls.paused.isEmpty && controls.haltedRollouts.count == 1)
        }
    }
}
