import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Logging

/// A settable clock for the daemon's parts: tests move time instead of waiting for it.
final class ManualClock: Sendable {
    private let value: LockedState<Double>

    /// A clock at `start` (epoch seconds).
    init(_ start: Int64) { value = LockedState(Double(start)) }

    /// The daemon's view of it.
    var clock: DaemonClock { DaemonClock { [value] in value.withLock { $0 } } }

    /// Now, whole seconds.
    var now: Int64 { Int64(value.withLock { $0 }) }

    /// Moves time forward by `seconds`.
    func advance(_ seconds: Int64) { value.withLock { $0 += Double(seconds) } }

    /// Moves time forward by a fraction of a second or more.
    func advance(by seconds: Double) { value.withLock { $0 += seconds } }

    /// Now, with the fraction.
    var exact: Double { value.withLock { $0 } }

    /// Sets the time.
    func set(_ t: Int64) { value.withLock { $0 = Double(t) } }
}

/// A project folder with a herald.yaml, campaign files, a real SQLite store and the daemon's parts over them,
/// driven tick by tick with a manual clock.
struct DaemonFixture {
    let root: String
    let store: SQLiteStore
    let ledger: SQLiteLedger
    let book: LiveBook
    let clock: ManualClock
    let scheduler: Scheduler
    let dispatcher: Dispatcher
    let engine: CurlEngine
    /// The journey runner, wired to the scheduler (stored events) and the dispatcher (journey rows).
    let journeys: JourneyRunner

    /// 2026-11-02T00:00:00Z, a Monday.
    static let t0: Int64 = 1_793_577_600

    /// A fixture with `campaigns` (file name → YAML) and optional extra config (channels, policy): `email` and
    /// `sms` are more keys of those channels (one line, e.g. `url: smtp://…`). With a `signer`, messages carry
    /// links signed by it (the daemon's `MessageLinks.signed`) instead of `links`.
    static func make(
        campaigns: [String: String], hook: String = "{}", policy: String = "", start: Int64 = t0,
        links: MessageLinks = .none, email: String = "", sms: String = "", signer: LinkSigner? = nil,
        logger: Logger = Logger(label: "test")
    ) throws -> DaemonFixture {
        let root = NSTemporaryDirectory() + "heraldd-test-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/campaigns", withIntermediateDirectories: true)
        let yaml = """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:8025
              public_url: http://127.0.0.1:8025
            attributes:
              country: string
              first_name: string
            topics: [promotions, reminders]
            policy:
              default_timezone: UTC
            \(policy)
            channels:
              outbox: var/outbox
              email:
                from: "Shop <news@shop.example>"
                \(email)
              sms:
                provider: kannel
                \(sms)
              webhook:
                endpoints:
                  hook: \(hook)
            """
        try yaml.write(toFile: root + "/herald.yaml", atomically: true, encoding: .utf8)
        for (name, text) in campaigns {
            try text.write(toFile: root + "/campaigns/" + name, atomically: true, encoding: .utf8)
        }
        let book: CampaignBook
        switch CampaignBook.load(path: root + "/herald.yaml", environment: [:]) {
        case .success(let b): book = b
        case .failure(let f): throw FixtureError(f.diagnostics.map(\.description).joined(separator: "\n"))
        }
        try fm.createDirectory(atPath: root + "/var", withIntermediateDirectories: true)
        let store = try SQLiteStore(path: root + "/var/herald.db", schema: book.config.attributes)
        let ledger = try SQLiteLedger(pool: store.pool)
        let live = LiveBook(book)
        let clock = ManualClock(start)
        let engine = CurlEngine()
        let senders = try ChannelSenders(config: book.config.channels, baseDirectory: root, engine: engine)
        let scheduler = Scheduler(store: store, ledger: ledger, book: live, clock: clock.clock, logger: logger)
        let journeys = JourneyRunner(
            store: store, ledger: ledger, book: live, clock: clock.clock, keeper: nil, logger: logger,
            population: { book, now in try await scheduler.population(book, now) })
        scheduler.runJourneys(journeys, wakeup: nil)
        return DaemonFixture(
            root: root, store: store, ledger: ledger, book: live, clock: clock,
            scheduler: scheduler,
            dispatcher: Dispatcher(
                store: store, ledger: ledger, book: live, senders: senders,
                links: signer.map { MessageLinks.signed(by: $0, config: book.config) } ?? links, clock: clock.clock,
                logger: logger, owner: "test-owner", retry: RetryPolicy(maxAttempts: 3, baseDelay: 10),
                journeys: journeys, sleep: { [clock] seconds in clock.advance(by: seconds) }),
            engine: engine, journeys: journeys)
    }

    /// Adds users `ids` with emails `<id>@example.com`, phones and a country.
    func users(_ ids: [String], country: String = "US") async throws {
        _ = try await store.upsertUsers(
            ids.enumerated().map { i, id in
                var u = UserUpsert(id: id)
                u.email = .some("\(id)@example.com")
                u.phone = .some("+1555000\(String(format: "%04d", i))")
                u.createdAt = .some(Self.t0 - 86_400 * 30)
                u.attributes = ["country": .string(country), "first_name": .string("N\(i)")]
                return u
            })
    }

    /// Every ledger row, newest first.
    func rows() async throws -> [LedgerEntry] { try await ledger.entries(campaign: nil, user: nil, limit: 100_000) }

    /// Files in the outbox.
    func outbox() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/var/outbox")) ?? []).sorted()
    }

    /// Runs dispatch rounds until nothing is due.
    @discardableResult
    func drain() async throws -> Int {
        var total = 0
        while true {
            let n = try await dispatcher.dispatchOnce()
            if n == 0 { return total }
            total += n
        }
    }

    /// Removes the folder.
    func remove() {
        engine.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A fixture set-up failure with its diagnostics.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A campaign file.
func campaignYAML(
    id: String, trigger: String, segment: String = "country == \"US\"", sendTime: String = "strategy: immediate\n  within: 6h",
    channel: String = "email", extra: String = ""
) -> String {
    """
    id: \(id)
    name: \(id)
    status: active
    topic: promotions
    audience:
      segment: \(segment)
    trigger:
      \(trigger)
    send_time:
      \(sendTime)
    \(extra)
    message:
      channel: \(channel)
      email:
        subject: "Hi {{first_name}}"
        text: "Hello {{first_name}}, see {{unsubscribe_url}}"
      sms:
        text: "Hi {{first_name}}"
      webhook:
        endpoint: hook
        body: { "user": "{{user_id}}" }
      push:
        title: "Hi {{first_name}}"
        body: "Your cart is waiting"
        data: { deep_link: "shop://cart" }
        collapse_id: cart
    """
}
