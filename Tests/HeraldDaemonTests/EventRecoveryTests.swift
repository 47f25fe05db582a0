import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import HeraldIngest
import Logging
import Testing

/// Event campaigns at a start: only events an API call stored, whose planning never ran, are planned; history
/// imported with the CLI never triggers (docs/api.md).
@Suite struct EventRecoveryTests {
    static let t0 = DaemonFixture.t0

    static func fixture() throws -> DaemonFixture {
        try DaemonFixture.make(campaigns: [
            "welcome.yaml": campaignYAML(id: "welcome", trigger: "event: signed_up\n  delay: 10m"),
            "cart.yaml": campaignYAML(
                id: "cart", trigger: "event: cart_abandoned\n  delay: 1h", channel: "webhook"),
        ])
    }

    /// A daemon over the fixture's store, as `heraldd` builds one.
    static func daemon(_ f: DaemonFixture) throws -> Daemon {
        try Daemon(
            store: f.store, ledger: f.ledger, book: f.book.current, engine: f.engine, links: .none,
            clock: f.clock.clock, environment: [:], logger: Logger(label: "test"))
    }

    @Test func eventsImportedWithTheCLIDoNotTriggerAtStart() async throws {
        let f = try Self.fixture()
        defer { f.remove() }
        // A fresh install loads its users, then their history: sign-ups and abandoned carts inside the
        // campaigns' windows, of users in the campaigns' audience.
        try await f.users((0..<20).map { "u\($0)" })
        let lines = (0..<20).flatMap { i in
            [
                #"{"user_id":"u\#(i)","event":"signed_up","timestamp":\#(Self.t0 - 60 * Int64(i))}"#,
                #"{"user_id":"u\#(i)","event":"cart_abandoned","timestamp":\#(Self.t0 - 30 * Int64(i))}"#,
            ]
        }
        let path = f.root + "/history.ndjson"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let report = try await Importer(store: f.store, schema: f.book.current.config.attributes)
            .importEvents(path: path, format: .ndjson)
        #expect(report.inserted == 40)
        // heraldd starts.
        let started = Scheduler(
            store: f.store, ledger: f.ledger, book: f.book, clock: f.clock.clock,
            logger: Logger(label: "test"))
        #expect(try await started.recoverEventTriggers() == 0)
        #expect(try await started.tick() == 0)
        #expect(try await f.rows().isEmpty)
    }

    @Test func anAPIEventWhosePlanningNeverRanIsPlannedAtStartOnce() async throws {
        let f = try Self.fixture()
        defer { f.remove() }
        try await f.users(["a", "b"])
        let ms = Self.t0 * 1000
        // The API's write, then the crash before planning: the events are acknowledged by nobody but stored.
        let stored = [
            EventRecord(userID: "a", name: "signed_up", timestampMillis: ms),
            EventRecord(userID: "b", name: "cart_abandoned", timestampMillis: ms),
            EventRecord(userID: "b", name: "view", timestampMillis: ms),
        ]
        _ = try await f.store.insertEventsReportingNew(stored, awaitingPlanning: f.scheduler.triggeringEvents)
        // The client retries: a duplicate, which triggers nothing by itself.
        let daemon = try Self.daemon(f)
        _ = try await daemon.ingest(users: [], events: stored)
        #expect(try await f.rows().isEmpty)
        // The next start plans both, once.
        let started = Scheduler(
            store: f.store, ledger: f.ledger, book: f.book, clock: f.clock.clock,
            logger: Logger(label: "test"))
        #expect(try await started.recoverEventTriggers() == 2)
        #expect(try await started.recoverEventTriggers() == 0)
        #expect(Set(try await f.rows().map(\.campaign)) == ["welcome", "cart"])
    }

    @Test func eventsPlannedThroughTheAPIAreNotPlannedAgainAtStart() async throws {
        let f = try Self.fixture()
        defer { f.remove() }
        try await f.users(["a"])
        let daemon = try Self.daemon(f)
        let event = EventRecord(userID: "a", name: "signed_up", timestampMillis: Self.t0 * 1000)
        _ = try await daemon.ingest(users: [], events: [event])
        #expect(try await f.rows().count == 1)
        #expect(try await f.store.eventsAwaitingPlanning(limit: 10).isEmpty)
        #expect(try await f.scheduler.recoverEventTriggers() == 0)
        #expect(try await f.rows().count == 1)
    }
}
