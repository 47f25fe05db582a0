import Foundation
import HeraldConsole
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Hummingbird
import HummingbirdTesting
import Logging

/// A project folder with a campaign and a journey, a real SQLite store, and the console over them on a router.
struct ConsoleFixture {
    let root: String
    let store: SQLiteStore
    let ledger: SQLiteLedger
    let book: CampaignBook

    static let token = "console-test-token"
    /// 2026-11-02T00:00:00Z.
    static let now: Int64 = 1_793_577_600

    static func make(publicURL: String = "http://127.0.0.1:8025") throws -> ConsoleFixture {
        let root = NSTemporaryDirectory() + "herald-console-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/campaigns", withIntermediateDirectories: true)
        try """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:8025
              public_url: \(publicURL)
            attributes:
              first_name: string
            policy:
              default_timezone: UTC
            channels:
              outbox: var/outbox
              email:
                from: "Shop <news@shop.example>"
            """.write(toFile: root + "/herald.yaml", atomically: true, encoding: .utf8)
        try """
            id: promo
            name: Promo
            status: active
            audience:
              segment: "true"
            trigger:
              api: true
            send_time:
              strategy: immediate
              within: 6h
            conversion:
              event: purchase
              within: 7d
            message:
              channel: email
              email:
                subject: "Hi"
                text: "Hello"
            """.write(toFile: root + "/campaigns/promo.yaml", atomically: true, encoding: .utf8)
        try """
            id: welcome
            name: Welcome
            status: active
            audience:
              segment: "true"
            trigger:
              event: signed_up
            steps:
              - id: hello
                message:
                  channel: email
                  email: { subject: "Welcome", text: "Hello" }
                send_time: { strategy: immediate, within: 24h }
              - id: later
                wait: 1d
            """.write(toFile: root + "/campaigns/welcome.yaml", atomically: true, encoding: .utf8)
        let book: CampaignBook
        switch CampaignBook.load(path: root + "/herald.yaml", environment: [:]) {
        case .success(let b): book = b
        case .failure(let f): throw FixtureError(f.diagnostics.map(\.description).joined(separator: "\n"))
        }
        try FileManager.default.createDirectory(atPath: root + "/var", withIntermediateDirectories: true)
        let store = try SQLiteStore(path: root + "/var/herald.db", schema: book.config.attributes)
        return ConsoleFixture(root: root, store: store, ledger: try SQLiteLedger(pool: store.pool), book: book)
    }

    /// The console on a router, as heraldd mounts it.
    func application(throttle: SignInThrottle = SignInThrottle()) -> some ApplicationProtocol {
        let router = Router(context: HeraldRequestContext.self)
        var logger = Logger(label: "console.test")
        logger.logLevel = .critical
        let book = self.book
        let deps = ConsoleDependencies(
            store: store, ledger: ledger, book: { book }, token: Self.token, publicURL: book.config.api.publicURL,
            clock: { Self.now }, logger: logger)
        WebConsole(deps, throttle: throttle).mount(on: router)
        return Application(router: router)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Signs in; returns the `Cookie` header value and the CSRF token of the first page.
    func signIn() async throws -> (cookie: String, csrf: String) {
        let reply = try await execute(
            uri: "/console/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "token=\(ConsoleFixture.token)"))
        let setCookie = reply.headers[.setCookie] ?? ""
        let cookie = String(setCookie.prefix { $0 != ";" })
        let page = try await execute(uri: "/console/campaigns", method: .get, headers: [.cookie: cookie])
        return (cookie, csrf(in: String(buffer: page.body)))
    }

    /// The value of the first `csrf` hidden field in `html`.
    func csrf(in html: String) -> String {
        guard let r = html.range(of: "name=\"csrf\" value=\"") else { return "" }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }
}
