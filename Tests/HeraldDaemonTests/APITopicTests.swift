import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// `PUT /v1/users/{id}/preferences` accepts only the topics herald.yaml declares (docs/campaigns.md, "Topics").
@Suite struct APITopicTests {
    @Test func anUndeclaredTopicIsRefusedAndNothingIsStored() async throws {
        try await APIHarness.run { api in
            let r = try await api.send(
                .put, "/v1/users/u1/preferences",
                body: Array(#"{"channels":{"sms":true},"topics":{"promotons":true}}"#.utf8))
            #expect(r.status == 400, "\(r.text)")
            let body = try APIHarness.object(r)
            #expect(body["field"] as? String == "topics.promotons")
            let error = try #require(body["error"] as? String)
            #expect(error.contains("not declared") && error.contains("did you mean 'promotions'?"), "\(error)")
            #expect(try await api.store.preferences(userID: "u1") == Preferences())
            // The declared one is accepted.
            let ok = try await api.send(
                .put, "/v1/users/u1/preferences", body: Array(#"{"topics":{"promotions":true}}"#.utf8))
            #expect(ok.status == 200, "\(ok.text)")
        }
    }
}
