import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Testing

/// Every bad input is a clear 4xx with a JSON error, stores nothing, and the server keeps serving.
@Suite struct APIRobustnessTests {
    /// A bad ingestion body and the status and field it must get.
    struct BadBody: Sendable, CustomStringConvertible {
        var name: String
        var path: String
        var body: [UInt8]
        var status: Int
        var field: String?
        var description: String { name }
    }

    static let bad: [BadBody] = [
        BadBody(
            name: "malformed JSON", path: "/v1/identify", body: Array(#"{"userId":"u1","#.utf8), status: 400),
        BadBody(name: "not an object", path: "/v1/track", body: Array("[1,2]".utf8), status: 400),
        BadBody(name: "empty body", path: "/v1/identify", body: [], status: 400),
        BadBody(
            name: "invalid UTF-8", path: "/v1/identify",
            body: Array(#"{"userId":"u1","traits":{"plan":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8),
            status: 400),
        BadBody(
            name: "missing userId", path: "/v1/identify", body: Array(#"{"traits":{"plan":"x"}}"#.utf8),
            status: 400,
            field: "userId"),
        BadBody(
            name: "undeclared attribute", path: "/v1/identify",
            body: Array(#"{"userId":"u1","traits":{"plann":"x"}}"#.utf8), status: 400, field: "traits.plann"),
        BadBody(
            name: "wrong attribute type", path: "/v1/identify",
            body: Array(#"{"userId":"u1","traits":{"avg_order_value":"lots"}}"#.utf8), status: 400,
            field: "traits.avg_order_value"),
        BadBody(
            name: "bad timestamp", path: "/v1/track",
            body: Array(#"{"userId":"u1","event":"e","timestamp":"yesterday"}"#.utf8), status: 400,
            field: "timestamp"),
        BadBody(
            name: "missing event", path: "/v1/track", body: Array(#"{"userId":"u1"}"#.utf8), status: 400,
            field: "event"),
        BadBody(
            name: "wrong type on endpoint", path: "/v1/track",
            body: Array(#"{"type":"identify","userId":"u1"}"#.utf8), status: 400, field: "type"),
        BadBody(
            name: "batch not an array", path: "/v1/batch", body: Array(#"{"batch":{}}"#.utf8), status: 400,
            field: "batch"),
        BadBody(
            name: "page call in batch", path: "/v1/batch",
            body: Array(#"{"batch":[{"type":"page","userId":"u1"}]}"#.utf8), status: 400, field: "type"),
        BadBody(
            name: "single call over 64 KiB", path: "/v1/identify",
            body: Array(#"{"userId":"u1","traits":{"plan":""#.utf8) + Array(repeating: 0x61, count: 64 << 10)
                + Array(#""}}"#.utf8), status: 413),
        BadBody(
            name: "batch over 1 MiB", path: "/v1/batch",
            body: Array(#"{"batch":[{"type":"identify","userId":"u1","traits":{"plan":""#.utf8)
                + Array(repeating: 0x61, count: 1 << 20) + Array(#""}}]}"#.utf8), status: 413),
    ]

    @Test(arguments: bad) func badIngestionBodiesAreRefusedAndStoreNothing(_ c: BadBody) async throws {
        try await APIHarness.run { api in
            let r = try await api.send(
                .post, c.path, body: c.body, headers: [HeaderField("Content-Type", "application/json")])
            #expect(r.status == c.status, "\(r.text)")
            let error = try APIHarness.object(r)
            #expect(error["error"] is String)
            if let field = c.field { #expect(error["field"] as? String == field, "\(r.text)") }
            let counts = try await api.counts()
            #expect(counts.users == 0 && counts.events == 0)
            let good = try await api.postJSON("/v1/identify", #"{"userId":"ok"}"#)
            #expect(good.status == 200)
            #expect(try await api.counts().users == 1)
        }
    }

    @Test func aBatchIsAllOrNothingAndNamesTheBadCall() async throws {
        try await APIHarness.run { api in
            let r = try await api.postJSON(
                "/v1/batch",
                #"{"batch":[{"type":"identify","userId":"u1"},{"type":"track","userId":"u1","event":"e","timestamp":"2026-01-01T00:00:00Z"},{"type":"track","userId":"u2","event":"e","timestamp":"soon"}]}"#
            )
            #expect(r.status == 400)
            let error = try APIHarness.object(r)
            #expect(error["index"] as? Int == 2 && error["field"] as? String == "timestamp")
            let counts = try await api.counts()
            #expect(counts.users == 0 && counts.events == 0)
        }
    }

    @Test func wrongOrMissingBearerTokensAre401() async throws {
        try await APIHarness.run { api in
            let body = Array(#"{"userId":"u1"}"#.utf8)
            for header in [
                nil, "Bearer wrong", "Bearer \(APIHarness.token)x", "Bearer ", "Basic \(APIHarness.token)",
                APIHarness.token,
            ] {
                let headers = header.map { [HeaderField("Authorization", $0)] } ?? []
                let r = try await api.send(.post, "/v1/identify", body: body, headers: headers, auth: false)
                #expect(r.status == 401, "\(header ?? "none")")
                #expect(!r.text.contains(APIHarness.token))
            }
            #expect(try await api.send(.get, "/v1/sends", auth: false).status == 401)
            #expect(try await api.counts().users == 0)
            #expect(try await api.send(.post, "/v1/identify", body: body).status == 200)
        }
    }

    @Test func forgedUnsubscribeTokensStoreNothing() async throws {
        try await APIHarness.run { api in
            let real = api.signer.token(
                LinkPayload(kind: .unsubscribe, user: "u1", campaign: "c", topic: "promotions"))
            let other = LinkSigner(key: Array(repeating: 1, count: 32))
                .token(LinkPayload(kind: .unsubscribe, user: "u1", campaign: "c"))
            var flipped = Array(real)
            flipped[3] = flipped[3] == "A" ? "B" : "A"
            let click = api.signer.token(
                LinkPayload(kind: .click, user: "u1", campaign: "c", url: "https://x.example"))
            for token in [other, String(flipped), String(real.dropLast(3)), "garbage", "a.b", click, "%00"] {
                let get = try await api.send(.get, "/u/\(token)", auth: false)
                let post = try await api.postForm("/u/\(token)", [("List-Unsubscribe", "One-Click")])
                #expect((400..<500).contains(get.status) && (400..<500).contains(post.status), "\(token)")
            }
            #expect(try await api.store.preferences(userID: "u1") == Preferences())
            #expect(try await api.postForm("/u/\(real)", [("List-Unsubscribe", "One-Click")]).status == 200)
            #expect(try await api.store.preferences(userID: "u1").topics["promotions"] == true)
        }
    }

    @Test(arguments: [
        "/u/%2e%2e/%2e%2e/etc/passwd", "/v1/users/%2e%2e/preferences", "/o/%00", "/c/abc%00def",
        "/v1/users/a%2fb/preferences%2f..", "/v1/sends%2f..",
        "/u/..%5c..%5cetc", "/%2E%2E/etc/passwd", "/static/../../etc/passwd", "//etc/passwd",
    ])
    func oddPathsAre4xx(_ path: String) async throws {
        try await APIHarness.run { api in
            let r = try await api.send(.get, path)
            #expect((400..<500).contains(r.status), "\(path) → \(r.status)")
            #expect(!r.text.contains("root:"))
            #expect(try await api.send(.get, "/healthz").status == 200)
        }
    }

    @Test func unknownRoutesAndMethodsAreJSON4xx() async throws {
        try await APIHarness.run { api in
            let r = try await api.send(.get, "/nope")
            #expect(r.status == 404)
            #expect(try APIHarness.object(r)["error"] as? String == "no such endpoint")
            #expect((400..<500).contains(try await api.send(.delete, "/v1/identify").status))
        }
    }
}
