import Foundation
import HeraldDelivery
import Testing

/// Whether Debian's Chromium and its driver are installed (scripts/install-deps.sh --test installs them).
let chromiumInstalled =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")

/// heraldd's web console in a real headless browser (Tests/Fixtures/console/console_browser.py, Selenium and
/// chromedriver): sign-in, every page on a seeded store, the funnel against `herald stats`, the live tail,
/// and a pause that holds back a due send on the daemon.
@Suite(.serialized, .enabled(if: chromiumInstalled, "chromium and chromium-driver are not installed (scripts/install-deps.sh --test)"))
struct ConsoleBrowserTests {
    static let token = "console-browser-token"
    static let herald = URL(fileURLWithPath: DaemonCrashTests.heraldd).deletingLastPathComponent().appendingPathComponent("herald").path

    @Test func theConsoleShowsWhatHeraldStatsSaysAndTailsNewSends() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("token", Self.token + "\n")
        let port = freePort()
        try FileManager.default.createDirectory(atPath: dir.file("campaigns"), withIntermediateDirectories: true)
        try dir.write("herald.yaml", """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:\(port)
              public_url: http://127.0.0.1:\(port)
              token_file: \(dir.file("token"))
            attributes:
              first_name: string
            policy:
              default_timezone: UTC
            channels:
              outbox: var/outbox
              email:
                from: "Shop <news@shop.example>"
            """)
        try dir.write("campaigns/promo.yaml", """
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
                subject: "Hi {{first_name|there}}"
                text: "Hello"
            """)
        try dir.write("campaigns/welcome.yaml", """
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
            """)
        // Planned at the event, due 15 s later: the browser pauses it in between.
        try dir.write("campaigns/nudge.yaml", """
            id: nudge
            name: Nudge
            status: active
            audience:
              segment: "true"
            trigger:
              event: nudge_me
              delay: 15s
            send_time:
              strategy: immediate
              within: 6h
            message:
              channel: email
              email:
                subject: "Still there?"
                text: "Hello"
            """)
        let daemon = try TestServer("heraldd", DaemonCrashTests.heraldd, ["--config", dir.file("herald.yaml")], log: dir.file("heraldd.log"))
        defer { daemon.stop() }
        func alive() throws -> Bool {
            guard daemon.isAlive else { throw ServerUnavailable("heraldd exited: \(daemon.log)") }
            return true
        }
        let base = "http://127.0.0.1:\(port)"
        try await waitFor("heraldd to serve", timeout: 60, alive) {
            (try? await Self.call(base, "GET", "/readyz")).map { $0.status == 200 } ?? false
        }
        // 30 users with email (one without), some signed up (the journey) and one who bought.
        var calls: [String] = []
        for i in 0..<30 {
            let email = i == 7 ? "" : #","email":"user\#(i)@shop.example""#
            calls.append(#"{"type":"identify","userId":"u\#(i)","traits":{"first_name":"U\#(i)"\#(email)}}"#)
            if i % 3 == 0 { calls.append(#"{"type":"track","userId":"u\#(i)","event":"signed_up"}"#) }
        }
        let batch = try await Self.call(base, "POST", "/v1/batch", #"{"batch":[\#(calls.joined(separator: ","))]}"#)
        #expect(batch.status == 200, "\(batch.text)")
        let trigger = try await Self.call(base, "POST", "/v1/campaigns/promo/trigger", #"{"occurrence":"o1"}"#)
        #expect(trigger.status == 200, "\(trigger.text)")
        try await waitFor("the promo sends to go out", timeout: 60, alive) {
            let sends = try await Self.call(base, "GET", "/v1/sends?campaign=promo&limit=100")
            return sends.text.components(separatedBy: "\"status\":\"sent\"").count - 1 == 29
        }
        _ = try await Self.call(base, "POST", "/v1/track", #"{"userId":"u3","event":"purchase"}"#)

        let stats = try await runToExit(Self.herald, ["stats", "promo", "--format", "json", "--config", dir.file("herald.yaml")])
        try #require(stats.status == 0, "\(stats.output)")
        try dir.write("stats.json", stats.output)
        let browser = try await runToExit(
            python3, [Fixtures.script("console/console_browser.py"), base, dir.file("token"), dir.file("stats.json"), "u3"])
        print(browser.output)
        #expect(browser.status == 0, "\(browser.output)\nheraldd log:\n\(daemon.log)")
        #expect(!daemon.log.contains(Self.token), "the token is never logged")
    }

    /// One request to heraldd's API with the bearer token.
    static func call(_ base: String, _ method: String, _ path: String, _ body: String? = nil) async throws
        -> (status: Int, text: String)
    {
        let reply = try await sharedEngine.send(HTTPRequest(
            method: method == "GET" ? .get : .post, url: base + path,
            headers: [HeaderField("Authorization", "Bearer \(token)"), HeaderField("Content-Type", "application/json")],
            body: Array((body ?? "").utf8), timeout: .seconds(20)))
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }
}
