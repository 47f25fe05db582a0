import Foundation
import HeraldCore
@testable import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import HeraldPostgres
import struct PostgresNIO.PostgresQuery
import Logging
import Testing

/// A journey end to end on PostgreSQL (docs/journeys.md): entry by event, message steps through the
/// pipeline, ledger and dispatcher, a wait, a `wait_for` answered and one timed out, a branch, an `exit_when`
/// event — the daemon's parts over a PostgreSQL store and ledger, on the manual clock. Runs when
/// `HERALD_TEST_POSTGRES_URL` names a server (scripts/test.sh starts one); says so when it does not.
@Suite(.serialized) struct JourneyPostgresTests {
    static let serverURL = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    /// The daemon's parts of `fixture` (its folder, book, clock and channels) over a fresh PostgreSQL database.
    struct Parts {
        let store: any HeraldAudience
        let ledger: any DispatchLedger
        let scheduler: Scheduler
        let journeys: JourneyRunner
        let dispatcher: Dispatcher
        let database: PostgresDatabase
        let name: String
    }

    static func parts(_ f: DaemonFixture, server: String) async throws -> Parts {
        var url = try #require(URLComponents(string: server))
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try PostgresDatabase(url: server, maxConnections: 1)
        defer { admin.close() }
        try await admin.connection { _ = try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: admin.logger) }
        url.path = "/" + name
        let database = try PostgresDatabase(url: try #require(url.string), maxConnections: 4)
        try await database.migrate(PostgresStore.migrations + PostgresLedger.migrations)
        let book = f.book.current
        let clock = f.clock
        let store = PostgresStore(database: database, schema: book.config.attributes, clock: { clock.now })
        let ledger = PostgresLedger(database: database)
        let logger = Logger(label: "test")
        let scheduler = Scheduler(store: store, ledger: ledger, book: f.book, clock: clock.clock, logger: logger)
        let journeys = JourneyRunner(
            store: store, ledger: ledger, book: f.book, clock: clock.clock, keeper: nil, logger: logger,
            population: { book, now in try await scheduler.population(book, now) })
        scheduler.runJourneys(journeys, wakeup: nil)
        let senders = try ChannelSenders(config: book.config.channels, baseDirectory: f.root, engine: f.engine)
        let dispatcher = Dispatcher(
            store: store, ledger: ledger, book: f.book, senders: senders, links: .none, clock: clock.clock,
            logger: logger, owner: "test-owner", retry: RetryPolicy(maxAttempts: 3, baseDelay: 10),
            journeys: journeys, sleep: { seconds in clock.advance(by: seconds) })
        return Parts(
            store: store, ledger: ledger, scheduler: scheduler, journeys: journeys, dispatcher: dispatcher,
            database: database, name: name)
    }

    static func drop(_ p: Parts, server: String) async {
        p.database.close()
        guard let admin = try? PostgresDatabase(url: server, maxConnections: 1) else { return }
        defer { admin.close() }
        try? await admin.connection {
            _ = try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(p.name) WITH (FORCE)"), logger: admin.logger)
        }
    }

    func settle(_ p: Parts) async throws {
        for _ in 0..<10 {
            let moved = try await p.journeys.tick()
            var sent = 0
            while true {
                let n = try await p.dispatcher.dispatchOnce()
                if n == 0 { break }
                sent += n
            }
            if moved == 0 && sent == 0 { return }
        }
    }

    func track(_ p: Parts, _ user: String, _ name: String, at t: Int64) async throws {
        let e = EventRecord(userID: user, name: name, timestampMillis: t * 1000)
        _ = try await p.store.insertEvents([e])
        _ = try await p.scheduler.handle(events: [e])
    }

    @Test func threeUsersTakeTheirThreePathsOnPostgreSQL() async throws {
        guard let server = Self.serverURL else {
            print("JourneyPostgresTests not run: set HERALD_TEST_POSTGRES_URL (scripts/test.sh starts a server)")
            return
        }
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": JourneyDaemonTests.onboarding])
        defer { f.remove() }
        let p = try await Self.parts(f, server: server)
        do {
            try await run(f, p)
        } catch {
            await Self.drop(p, server: server)
            throw error
        }
        await Self.drop(p, server: server)
    }

    func run(_ f: DaemonFixture, _ p: Parts) async throws {
        let t0 = DaemonFixture.t0
        _ = try await p.store.upsertUsers(
            ["answers", "buyer", "silent"].map { id in
                var u = UserUpsert(id: id)
                u.email = .some("\(id)@example.com")
                u.createdAt = .some(t0 - 86_400 * 30)
                u.attributes = ["country": .string("US"), "first_name": .string(id)]
                return u
            })
        try await p.journeys.saveVersions()
        for user in ["answers", "buyer", "silent"] { try await track(p, user, "signed_up", at: t0) }
        try await settle(p)
        f.clock.advance(30)
        try await settle(p)
        f.clock.advance(3600)
        try await track(p, "buyer", "purchase", at: f.clock.now)
        f.clock.advance(86_400)
        try await settle(p)
        try await track(p, "answers", "cart_viewed", at: f.clock.now)
        try await settle(p)
        f.clock.advance(30)
        try await settle(p)
        f.clock.advance(2 * 86_400)
        try await settle(p)
        f.clock.advance(30)
        try await settle(p)

        let rows = try await p.ledger.entries(campaign: nil, user: nil, status: nil, limit: 1000)
        let o = Scheduler.eventOccurrence(t0)
        #expect(
            Set(rows.map(\.idempotencyKey)) == [
                "onboarding/\(o)/answers/welcome", "onboarding/\(o)/buyer/welcome", "onboarding/\(o)/silent/welcome",
                "onboarding/\(o)/answers/thanks", "onboarding/\(o)/silent/nudge",
            ])
        #expect(rows.allSatisfy { $0.status == .sent })
        func status(_ user: String) async throws -> JourneyInstanceStatus? {
            try await p.ledger.journeyInstances(journey: "onboarding", user: user).first?.status
        }
        #expect(try await status("answers") == .completed)
        #expect(try await status("buyer") == .exitedEvent("purchase"))
        #expect(try await status("silent") == .completed)
        let path = try await p.ledger.journeyRecords(journey: "onboarding", instance: o)
            .filter { $0.user == "silent" }.map { "\($0.step):\($0.outcome)→\($0.next)" }
        #expect(
            path == [
                "welcome:sent→day-1", "day-1:waited→await-cart", "await-cart:timeout→pick", "pick:else→nudge",
                "nudge:sent→exit",
            ])
        #expect(try await p.journeys.tick() == 0)
    }
}
