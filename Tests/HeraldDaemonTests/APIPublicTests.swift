import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Testing

@testable import HeraldDaemon

@Suite struct APIPublicTests {
    @Test func unsubscribePageChangesNothingAndPostOptsOutOfTheTopic() async throws {
        try await APIHarness.run { api in
            let token = api.signer.token(
                LinkPayload(kind: .unsubscribe, user: "u1", campaign: "winback", topic: "promotions"))
            let page = try await api.send(.get, "/u/\(token)", auth: false)
            #expect(page.status == 200)
            #expect(page.text.contains("<form method=\"post\""))
            #expect(try await api.store.preferences(userID: "u1") == Preferences())

            let oneClick = try await api.postForm("/u/\(token)", [("List-Unsubscribe", "One-Click")])
            #expect(oneClick.status == 200)
            let p = try await api.store.preferences(userID: "u1")
            #expect(p.topics["promotions"] == true && p.channels.isEmpty && !p.globalOptOut)
        }
    }

    @Test func unsubscribeWithoutATopicLeavesEmail() async throws {
        try await APIHarness.run { api in
            let token = api.signer.token(LinkPayload(kind: .unsubscribe, user: "u2", campaign: "news"))
            let r = try await api.postForm("/u/\(token)", [("confirm", "1")])
            #expect(r.status == 200 && r.text.contains("unsubscribed"))
            #expect(try await api.store.preferences(userID: "u2").channels["email"] == true)
        }
    }

    @Test func openAndClickAreRecordedOnce() async throws {
        try await APIHarness.run { api in
            let entry = LedgerEntry(
                idempotencyKey: "c/o/u1/1", campaign: "c", user: "u1", status: .sent, createdAt: 10)
            _ = try await api.ledger.record([entry])
            let open = api.signer.token(LinkPayload(kind: .open, user: "u1", campaign: "c", key: "c/o/u1/1"))
            let pixel = try await api.send(.get, "/o/\(open)", auth: false)
            #expect(
                pixel.status == 200 && pixel.header("Content-Type") == "image/gif"
                    && pixel.body.prefix(6) == Array("GIF89a".utf8)[...])
            #expect(try await api.ledger.entry(key: "c/o/u1/1")?.openedAt == 1_767_225_600)

            let click = api.signer.token(
                LinkPayload(
                    kind: .click, user: "u1", campaign: "c", key: "c/o/u1/1",
                    url: "https://shop.example/sale?x=1"))
            let r = try await api.send(.get, "/c/\(click)", auth: false)
            #expect(r.status == 302 && r.header("Location") == "https://shop.example/sale?x=1")
            #expect(try await api.ledger.entry(key: "c/o/u1/1")?.clickedAt == 1_767_225_600)

            let evil = api.signer.token(
                LinkPayload(kind: .click, user: "u1", campaign: "c", url: "javascript:alert(1)"))
            #expect(try await api.send(.get, "/c/\(evil)", auth: false).status == 400)
            // An open token is not a click token.
            #expect(try await api.send(.get, "/c/\(open)", auth: false).status == 404)
        }
    }

    @Test func kannelDeliveryReportsUpdateTheLedgerWithHistory() async throws {
        try await APIHarness.run { api in
            _ = try await api.ledger.record([
                LedgerEntry(
                    idempotencyKey: "c/o/u1/1", campaign: "c", user: "u1", status: .sent, createdAt: 10),
                LedgerEntry(
                    idempotencyKey: "c/o/u2/1", campaign: "c", user: "u2", status: .sent, createdAt: 10),
            ])
            let t1 = api.signer.token(LinkPayload.deliveryReport(key: "c/o/u1/1", now: 1_767_225_600))
            let t2 = api.signer.token(LinkPayload.deliveryReport(key: "c/o/u2/1", now: 1_767_225_600))
            #expect(
                try await api.send(.post, "/dlr/kannel?t=\(t1)&status=8", auth: false).text == "ignored\n")
            #expect(try await api.send(.get, "/dlr/kannel?t=\(t1)&status=1", auth: false).status == 200)
            #expect(try await api.send(.post, "/dlr/kannel?t=\(t2)&status=16", auth: false).status == 200)
            #expect(try await api.ledger.entry(key: "c/o/u1/1")?.status == .delivered)
            #expect(try await api.ledger.entry(key: "c/o/u2/1")?.status == .bounced)
            let history = try await api.ledger.history(key: "c/o/u1/1")
            #expect(history.map(\.to) == [.sent, .delivered])
            #expect(
                try await api.send(.post, "/dlr/kannel?t=\(t1.dropLast())&status=2", auth: false).status
                    == 404)
            #expect(try await api.send(.post, "/dlr/kannel?status=2", auth: false).status == 401)
            #expect(try await api.ledger.entry(key: "c/o/u1/1")?.status == .delivered)
            #expect(try await api.send(.post, "/dlr/smpp?status=1", auth: false).status == 404)
        }
    }

    @Test func twilioDeliveryReportsAreVerifiedAndFoundByMessageSid() async throws {
        try await APIHarness.run { api in
            var e = LedgerEntry(
                idempotencyKey: "c/o/u1/1", campaign: "c", user: "u1", status: .sent, createdAt: 10)
            e.providerMessageID = "SM42"
            _ = try await api.ledger.record([e])
            let fields = [("MessageSid", "SM42"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")]
            let signature = TwilioSignature.compute(
                authToken: APIHarness.twilioToken, url: APIHarness.publicURL + "/dlr/twilio",
                parameters: fields.map { (name: $0.0, value: $0.1) })
            let forged = try await api.postForm(
                "/dlr/twilio", fields, headers: [HeaderField("X-Twilio-Signature", "AAAA")])
            #expect(forged.status == 403)
            #expect(try await api.ledger.entry(key: "c/o/u1/1")?.status == .sent)
            let r = try await api.postForm(
                "/dlr/twilio", fields, headers: [HeaderField("X-Twilio-Signature", signature)])
            #expect(r.status == 200, "\(r.text)")
            let after = try #require(try await api.ledger.entry(key: "c/o/u1/1"))
            // A carrier's failure is final (`bounced`), never the dispatcher's retry status `failed`.
            #expect(after.status == .bounced && after.reason == "dlr:failed" && after.error == "twilio undelivered 30003")
            let again = try await api.postForm(
                "/dlr/twilio", fields, headers: [HeaderField("X-Twilio-Signature", signature)])
            #expect(again.text == "unchanged\n")
        }
    }
}
