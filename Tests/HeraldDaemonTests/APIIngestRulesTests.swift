import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import Testing

/// The ingest rules of docs/api.md through the HTTP API: the user-id alphabet on every route that takes an id,
/// the future skew of event timestamps, and percent-encoded ids in paths.
@Suite struct APIIngestRulesTests {
    /// (path, body, field, index): each refused with 400 naming the field, nothing stored.
    @Test(
        arguments: [
            ("/v1/identify", #"{"userId":"u1\ncritical: forged"}"#, "userId", nil),
            ("/v1/identify", #"{"userId":" u1"}"#, "userId", nil),
            ("/v1/track", #"{"userId":"u1\u001b[31m","event":"e"}"#, "userId", nil),
            ("/v1/track", #"{"userId":"..","event":"e"}"#, "userId", nil),
            (
                "/v1/batch",
                #"{"batch":[{"type":"identify","userId":"ok"},{"type":"track","userId":"x\u2028","event":"e"}]}"#,
                "userId", 1
            ),
            (
                "/v1/track", #"{"userId":"u1","event":"e","timestamp":"9999-01-01T00:00:00Z"}"#, "timestamp",
                nil
            ),
            (
                "/v1/batch",
                #"{"batch":[{"type":"track","userId":"u1","event":"e"},{"type":"track","userId":"u1","event":"e","timestamp":1767398401}]}"#,
                "timestamp", 1
            ),
            ("/v1/campaigns/promo/trigger", #"{"users":["ok","bad\r\nid"]}"#, "users", 1),
        ] as [(String, String, String, Int?)])
    func refusedWithTheFieldAndNothingStored(_ path: String, _ body: String, _ field: String, _ index: Int?)
        async throws
    {
        try await APIHarness.run { api in
            let r = try await api.postJSON(path, body)
            #expect(r.status == 400, "\(r.text)")
            let error = try APIHarness.object(r)
            #expect(error["field"] as? String == field, "\(r.text)")
            #expect(error["index"] as? Int == index, "\(r.text)")
            #expect(try await api.counts() == (0, 0))
            #expect(await api.backend.triggers.isEmpty)
        }
    }

    /// The harness's clock is 2026-01-01T00:00:00Z: 24 hours later is the latest event time taken.
    @Test func anEventAtTheSkewLimitIsTaken() async throws {
        try await APIHarness.run { api in
            let r = try await api.postJSON(
                "/v1/track", #"{"userId":"u1","event":"e","timestamp":1767312000}"#)
            #expect(r.status == 200, "\(r.text)")
            let late = try await api.postJSON(
                "/v1/track", #"{"userId":"u1","event":"e","timestamp":1767312001}"#)
            #expect(late.status == 400)
            #expect(
                try APIHarness.object(late)["error"] as? String
                    == "'timestamp' 2026-01-02T00:00:01Z is after 2026-01-02T00:00:00Z, the latest accepted now "
                    + "(ingest.max_future_skew in herald.yaml)")
        }
    }

    /// Ids with `/` are reached percent-encoded; a path id outside the alphabet is refused.
    @Test func preferencesTakePercentEncodedIDs() async throws {
        try await APIHarness.run { api in
            _ = try await api.store.upsertUsers([UserUpsert(id: "a/b"), UserUpsert(id: "c\\d")])
            let put = try await api.send(
                .put, "/v1/users/a%2Fb/preferences", body: Array(#"{"topics":{"promotions":true}}"#.utf8),
                headers: [HeaderField("Content-Type", "application/json")])
            #expect(put.status == 200, "\(put.text)")
            #expect(try await api.store.preferences(userID: "a/b").topics["promotions"] == true)
            let get = try APIHarness.object(try await api.send(.get, "/v1/users/a%2fb/preferences"))
            #expect(get["user"] as? String == "a/b")
            #expect((get["topics"] as? [String: Bool])?["promotions"] == true)
            let backslash = try APIHarness.object(try await api.send(.get, "/v1/users/c%5Cd/preferences"))
            #expect(backslash["user"] as? String == "c\\d")
            // Still refused: encoded separators elsewhere, dot segments, ids outside the alphabet.
            for path in [
                "/v1/users/a%2Fb/preferences%2Fx", "/v1/campaigns/a%2Fb/trigger",
                "/v1/users/%2E%2E/preferences",
            ] {
                #expect(try await api.send(.get, path).status == 400, "\(path)")
            }
            let control = try await api.send(
                .put, "/v1/users/u%1B%5B31m/preferences", body: Array(#"{"global":true}"#.utf8),
                headers: [HeaderField("Content-Type", "application/json")])
            #expect(control.status == 400)
            #expect(try APIHarness.object(control)["field"] as? String == "id")
            #expect(try await api.store.preferences(userID: "u\u{1B}[31m") == Preferences())
        }
    }
}
