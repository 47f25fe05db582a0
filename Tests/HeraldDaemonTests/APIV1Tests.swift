import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import Testing

@Suite struct APIV1Tests {
    @Test func identifyTrackAndBatchAreStoredBeforeTheReply() async throws {
        try await APIHarness.run { api in
            let identify = try await api.postJSON(
                "/v1/identify",
                #"{"userId":"u1","traits":{"email":"a@b.example","phone":"+15550001111","plan":"gold","avg_order_value":12.5}}"#
            )
            #expect(identify.status == 200, "\(identify.text)")
            let profile = try #require(try await api.store.profile(id: "u1"))
            #expect(profile.email == "a@b.example")
            #expect(profile.attributes["plan"] == .string("gold"))

            let track = try await api.postJSON(
                "/v1/track",
                #"{"userId":"u1","event":"purchase","properties":{"amount":35.2},"timestamp":"2025-11-02T08:15:00Z","messageId":"m1"}"#
            )
            #expect(track.status == 200, "\(track.text)")
            #expect(try await api.counts().events == 1)

            let batch = try await api.postJSON(
                "/v1/batch",
                #"{"batch":[{"type":"identify","userId":"u2","traits":{"plan":"free"}},{"type":"track","userId":"u2","event":"view"}]}"#
            )
            #expect(batch.status == 200, "\(batch.text)")
            let counts = try await api.counts()
            #expect(counts.users == 2 && counts.events == 2)
            // The track without a timestamp took the time the API received it.
            let facts = try #require(try await api.store.facts(id: "u2"))
            let stamps = facts.events["view"]?.timestamps ?? []
            #expect(stamps == [1_767_225_600] || stamps == [1_767_225_600_000], "\(stamps)")

            // The same messageId again is acknowledged and not stored twice.
            let again = try await api.postJSON(
                "/v1/track",
                #"{"userId":"u1","event":"purchase","properties":{"amount":35.2},"timestamp":"2025-11-02T08:15:00Z","messageId":"m1"}"#
            )
            #expect(again.status == 200)
            #expect(try await api.counts().events == 2)
        }
    }

    @Test func preferencesReadAndWrite() async throws {
        try await APIHarness.run { api in
            let empty = try APIHarness.object(try await api.send(.get, "/v1/users/u%201/preferences"))
            #expect(empty["global"] as? Bool == false)
            let put = try await api.send(
                .put, "/v1/users/u%201/preferences",
                body: Array(#"{"channels":{"sms":true},"topics":{"promotions":true}}"#.utf8),
                headers: [HeaderField("Content-Type", "application/json")])
            #expect(put.status == 200, "\(put.text)")
            let stored = try await api.store.preferences(userID: "u 1")
            #expect(
                stored.channels["sms"] == true && stored.topics["promotions"] == true && !stored.globalOptOut)
            let body = try APIHarness.object(put)
            #expect((body["channels"] as? [String: Bool])?["sms"] == true)
            #expect(body["updated_at"] as? Int == 1_767_225_600)

            let back = try await api.send(
                .put, "/v1/users/u%201/preferences",
                body: Array(#"{"topics":{"promotions":false},"global":true}"#.utf8))
            #expect(back.status == 200)
            let after = try await api.store.preferences(userID: "u 1")
            #expect(
                after.topics["promotions"] == false && after.globalOptOut && after.channels["sms"] == true)
        }
    }

    @Test func badPreferenceBodiesChangeNothing() async throws {
        try await APIHarness.run { api in
            for body in [
                #"{"channels":{"sms":true,"fax":true}}"#, #"{"global":1}"#, #"{"glob":true}"#, #"{}"#, "[]",
                "{",
            ] {
                let r = try await api.send(.put, "/v1/users/u1/preferences", body: Array(body.utf8))
                #expect(r.status == 400, "\(body) → \(r.status)")
                #expect(try APIHarness.object(r)["error"] is String)
            }
            #expect(try await api.store.preferences(userID: "u1") == Preferences())
        }
    }

    @Test func triggerMapsOutcomesToStatuses() async throws {
        try await APIHarness.run { api in
            let ok = try await api.postJSON(
                "/v1/campaigns/promo/trigger", #"{"occurrence":"2026-w1","users":["u1","u2"]}"#)
            #expect(ok.status == 200, "\(ok.text)")
            let body = try APIHarness.object(ok)
            #expect(body["occurrence"] as? String == "2026-w1" && body["already_planned"] as? Bool == false)
            let calls = await api.backend.triggers
            #expect(calls.count == 1 && calls[0].users == ["u1", "u2"] && calls[0].occurrence == "2026-w1")

            let noBody = try await api.send(.post, "/v1/campaigns/promo/trigger")
            #expect(noBody.status == 200)
            #expect(await api.backend.triggers.last?.occurrence == nil)

            #expect(try await api.send(.post, "/v1/campaigns/nope/trigger").status == 404)
            #expect(try await api.send(.post, "/v1/campaigns/weekly/trigger").status == 409)
            #expect(try await api.send(.post, "/v1/campaigns/paused/trigger").status == 409)
            #expect(try await api.postJSON("/v1/campaigns/promo/trigger", #"{"users":"u1"}"#).status == 400)
            #expect(await api.backend.triggers.count == 2)
        }
    }

    @Test func sendsAreFilteredAndMasked() async throws {
        try await APIHarness.run { api in
            var a = LedgerEntry(
                idempotencyKey: "c/o/u1/1", campaign: "c", user: "u1", status: .sent, createdAt: 10)
            a.address = "alice@shop.example"
            a.channel = .email
            var b = LedgerEntry(
                idempotencyKey: "c/o/u2/1", campaign: "c", user: "u2", status: .suppressed, createdAt: 11)
            b.reason = "opted_out:channel"
            _ = try await api.ledger.record([a, b])
            let all = try await api.send(.get, "/v1/sends?campaign=c")
            #expect(all.status == 200)
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(all.body)) as? [[String: Any]])
            #expect(rows.count == 2)
            #expect(!all.text.contains("alice@"))
            #expect(rows.contains { $0["address"] as? String == "a***@shop.example" })
            let sent = try await api.send(.get, "/v1/sends?status=sent&user=u1&limit=5")
            let one = try #require(
                try JSONSerialization.jsonObject(with: Data(sent.body)) as? [[String: Any]])
            #expect(one.count == 1 && one[0]["idempotency_key"] as? String == "c/o/u1/1")
            #expect(try await api.send(.get, "/v1/sends?status=shipped").status == 400)
            #expect(try await api.send(.get, "/v1/sends?limit=0").status == 400)
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await APIHarness.run { api in
            #expect(try await api.send(.get, "/healthz", auth: false).status == 200)
            #expect(try await api.send(.get, "/readyz", auth: false).status == 200)
            await api.backend.setReady(false)
            #expect(try await api.send(.get, "/readyz", auth: false).status == 503)
            _ = try await api.send(.get, "/v1/sends", auth: false)
            let metrics = try await api.send(.get, "/metrics", auth: false)
            #expect(metrics.status == 200)
            #expect(
                metrics.text.contains(
                    #"herald_http_requests_total{route="/readyz",method="GET",status="503"} 1"#))
            #expect(metrics.text.contains(#"route="/v1/sends",method="GET",status="401""#))
        }
    }

    @Test func withoutATokenV1RefusesEverything() async throws {
        try await APIHarness.run(apiToken: nil) { api in
            let r = try await api.postJSON("/v1/identify", #"{"userId":"u1"}"#)
            #expect(r.status == 503)
            #expect(
                try APIHarness.object(r)["error"] as? String
                    == "the API token is not configured: set api.token_file in herald.yaml")
            #expect(try await api.counts().users == 0)
            #expect(try await api.send(.get, "/healthz", auth: false).status == 200)
        }
    }
}
