import Foundation
import HeraldConsole
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Hummingbird
import HummingbirdTesting
import Testing

/// The console's routes over a real store: refusals without a session, sign-in, CSRF, and pages whose numbers
/// and escaping are checked.
@Suite struct ConsoleRoutesTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func withoutASessionPagesGoToSignInAndEndpointsAre401() async throws {
        let f = try ConsoleFixture.make()
        defer { f.remove() }
        try await f.application().test(.router) { client in
            for page in ["/console/campaigns", "/console/campaigns/promo", "/console/journeys/welcome",
                         "/console/user?id=u1", "/console/queue", "/console/tail", "/console/assets/tail.js"] {
                let reply = try await client.execute(uri: page, method: .get)
                #expect(reply.status == .seeOther, "\(page)")
                #expect(reply.headers[.location] == "/console/sign-in")
            }
            #expect(try await client.execute(uri: "/console/tail/events", method: .get).status == .unauthorized)
            let post = try await client.execute(uri: "/console/sign-out", method: .post, headers: Self.form, body: ByteBuffer(string: "csrf=x"))
            #expect(post.status == .unauthorized)
            // A made-up session id is no session.
            let forged = try await client.execute(
                uri: "/console/campaigns", method: .get, headers: [.cookie: "herald_console=" + String(repeating: "a", count: 64)])
            #expect(forged.status == .seeOther)
        }
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndWrongTokensAreLimited() async throws {
        let f = try ConsoleFixture.make()
        defer { f.remove() }
        try await f.application(throttle: SignInThrottle(limit: 2, window: 60)).test(.router) { client in
            let signIn = try await client.execute(uri: "/console/sign-in", method: .get)
            #expect(signIn.status == .ok && String(buffer: signIn.body).contains("name=\"token\""))
            #expect(signIn.headers[HTTPFields.Element.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            for _ in 0..<2 {
                let wrong = try await client.execute(
                    uri: "/console/sign-in", method: .post, headers: Self.form, body: ByteBuffer(string: "token=nope"))
                #expect(wrong.status == .unauthorized && wrong.headers[.setCookie] == nil)
            }
            // Past the limit even the right token waits.
            let held = try await client.execute(
                uri: "/console/sign-in", method: .post, headers: Self.form,
                body: ByteBuffer(string: "token=\(ConsoleFixture.token)"))
            #expect(held.status == .tooManyRequests && held.headers[.retryAfter] == "60")
        }
        try await f.application().test(.router) { client in
            let ok = try await client.execute(
                uri: "/console/sign-in", method: .post, headers: Self.form,
                body: ByteBuffer(string: "token=\(ConsoleFixture.token)"))
            #expect(ok.status == .seeOther && ok.headers[.location] == "/console/campaigns")
            let cookie = try #require(ok.headers[.setCookie])
            #expect(cookie.contains("; Path=/console;") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"))
            #expect(!cookie.contains("Secure"))  // an http public URL
            #expect(!cookie.contains(ConsoleFixture.token))
        }
    }

    @Test func theCookieIsSecureBehindAnHTTPSPublicURL() async throws {
        let f = try ConsoleFixture.make(publicURL: "https://herald.example.com")
        defer { f.remove() }
        try await f.application().test(.router) { client in
            let ok = try await client.execute(
                uri: "/console/sign-in", method: .post, headers: Self.form,
                body: ByteBuffer(string: "token=\(ConsoleFixture.token)"))
            #expect(ok.headers[.setCookie]?.hasSuffix("; Secure") == true)
        }
    }

    @Test func aPostNeedsTheSessionsCSRFToken() async throws {
        let f = try ConsoleFixture.make()
        defer { f.remove() }
        try await f.application().test(.router) { client in
            let (cookie, csrf) = try await client.signIn()
            #expect(csrf.count == 64)
            var headers = Self.form
            headers[.cookie] = cookie
            for body in ["", "csrf=", "csrf=\(String(csrf.dropLast()))0"] {
                let refused = try await client.execute(uri: "/console/sign-out", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(refused.status == .forbidden, "\(body)")
            }
            let out = try await client.execute(
                uri: "/console/sign-out", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            // The session is gone.
            let after = try await client.execute(uri: "/console/campaigns", method: .get, headers: [.cookie: cookie])
            #expect(after.status == .seeOther)
        }
    }

    @Test func theCampaignPageShowsTheLedgersFunnel() async throws {
        let f = try ConsoleFixture.make()
        defer { f.remove() }
        let t = ConsoleFixture.now - 3600
        var rows: [LedgerEntry] = []
        for (i, status) in [LedgerStatus.sent, .sent, .delivered, .failed, .scheduled, .holdout].enumerated() {
            rows.append(LedgerEntry(idempotencyKey: "promo/o1/u\(i)/1", campaign: "promo", user: "u\(i)", status: status,
                                    channel: .email, scheduledAt: t, createdAt: t))
        }
        _ = try await f.ledger.record(rows)
        let funnel = try #require(try await f.ledger.funnels(campaign: "promo", goals: Campaign.conversionGoals(f.book.campaigns)).first)
        try await f.application().test(.router) { client in
            let (cookie, _) = try await client.signIn()
            let page = String(buffer: try await client.execute(uri: "/console/campaigns/promo", method: .get, headers: [.cookie: cookie]).body)
            for (id, n) in [("audience", funnel.decisions), ("sent", funnel.sent), ("pending", funnel.pending),
                            ("failed", funnel.count(.failed)), ("holdout", funnel.count(.holdout))] {
                #expect(page.contains("id=\"stage-\(id)\">\(n)<"), "\(id) \(n)")
            }
            #expect(funnel.decisions == 6)
            #expect(page.contains("<svg") && page.contains("No rollout"))
            let list = String(buffer: try await client.execute(uri: "/console/campaigns", method: .get, headers: [.cookie: cookie]).body)
            #expect(list.contains("/console/campaigns/promo") && list.contains("/console/journeys/welcome"))
            let missing = try await client.execute(uri: "/console/campaigns/nope", method: .get, headers: [.cookie: cookie])
            #expect(missing.status == .notFound)
        }
    }

    @Test func theUserPageEscapesWhatComesFromOutsideAndMasksAddresses() async throws {
        let f = try ConsoleFixture.make()
        defer { f.remove() }
        let hostile = "<img src=x onerror=alert(1)>"
        var user = UserUpsert(id: hostile)
        user.email = "ana@shop.example"
        user.attributes = ["first_name": .string("<script>x</script>")]
        _ = try await f.store.upsertUsers([user])
        try await f.application().test(.router) { client in
            let (cookie, _) = try await client.signIn()
            let uri = "/console/user?id=" + HTML.component(hostile)
            let reply = try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
            let page = String(buffer: reply.body)
            #expect(reply.status == .ok)
            #expect(!page.contains(hostile) && !page.contains("<script>x"))
            #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;") && page.contains("&lt;script&gt;x&lt;/script&gt;"))
            #expect(page.contains("a***@shop.example") && !page.contains("ana@shop.example"))
            #expect(page.components(separatedBy: "<rect").count - 1 == 168)
        }
    }
}
