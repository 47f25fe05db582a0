import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Testing

@testable import HeraldDaemon

@Suite struct APIInboundSMSTests {
    /// Two profiles share the number; one has another.
    static func seed(_ api: APIHarness) async throws {
        var a = UserUpsert(id: "u1")
        a.phone = .some("+15550001111")
        var b = UserUpsert(id: "u2")
        b.phone = .some("+15550001111")
        var c = UserUpsert(id: "u3")
        c.phone = .some("+15550002222")
        _ = try await api.store.upsertUsers([a, b, c])
    }

    /// The users whose SMS channel is opted out.
    static func smsOptedOut(_ api: APIHarness) async throws -> [String] {
        var out: [String] = []
        for id in ["u1", "u2", "u3"] where try await api.store.preferences(userID: id).channels["sms"] == true
        {
            out.append(id)
        }
        return out
    }

    @Test func kannelStopAndStartApplyToEveryProfileWithTheNumber() async throws {
        try await APIHarness.run { api in
            try await Self.seed(api)
            let stop = try await api.send(
                .post, "/inbound/sms?from=15550001111&text=please+stop&secret=\(APIHarness.smsSecret)",
                auth: false)
            #expect(stop.status == 200 && stop.text.contains("unsubscribed"))
            #expect(try await Self.smsOptedOut(api) == ["u1", "u2"])
            #expect(try await api.store.isSuppressed(["+15550001111"]).map(\.list) == ["sms_stop"])
            let start = try await api.postForm(
                "/inbound/sms", [("from", "+15550001111"), ("text", "START")],
                headers: [HeaderField("X-Herald-Secret", APIHarness.smsSecret)])
            #expect(start.status == 200, "\(start.text)")
            #expect(try await Self.smsOptedOut(api) == [])
            #expect(try await api.store.isSuppressed(["+15550001111"]).isEmpty)
            // Kannel's post-url shape: the sender in a header, the text as the body.
            let chinese = try await api.send(
                .post, "/inbound/sms",
                body: Array("退订".utf8),
                headers: [
                    HeaderField("X-Kannel-From", "+15550002222"),
                    HeaderField("X-Herald-Secret", APIHarness.smsSecret),
                    HeaderField("Content-Type", "text/plain; charset=utf-8"),
                ], auth: false)
            #expect(chinese.status == 200)
            #expect(try await Self.smsOptedOut(api) == ["u3"])
        }
    }

    @Test func helpGetsTheConfiguredReplyAndOrdinaryTextNothing() async throws {
        try await APIHarness.run { api in
            try await Self.seed(api)
            let help = try await api.send(
                .post, "/inbound/sms?from=%2B15550001111&text=HELP&secret=\(APIHarness.smsSecret)",
                auth: false)
            #expect(help.text == "Shop: reply STOP to opt out. Help at shop.example")
            let chat = try await api.send(
                .post,
                "/inbound/sms?from=%2B15550001111&text=what+time+do+you+open&secret=\(APIHarness.smsSecret)",
                auth: false)
            #expect(chat.status == 200 && chat.text.isEmpty)
            #expect(try await Self.smsOptedOut(api) == [])
        }
    }

    @Test func unauthenticatedInboundMessagesAreRefusedAndStoreNothing() async throws {
        try await APIHarness.run { api in
            try await Self.seed(api)
            let none = try await api.send(.post, "/inbound/sms?from=15550001111&text=STOP", auth: false)
            #expect(none.status == 401)
            let wrong = try await api.send(
                .post, "/inbound/sms?from=15550001111&text=STOP&secret=guess", auth: false)
            #expect(wrong.status == 403)
            #expect(!wrong.text.contains(APIHarness.smsSecret))
            let badTwilio = try await api.postForm(
                "/inbound/sms", [("From", "+15550001111"), ("Body", "STOP")],
                headers: [HeaderField("X-Twilio-Signature", "mDSrs5lMZu+xfdFSYai/+H1hY3Q=")])
            #expect(badTwilio.status == 403)
            #expect(try await Self.smsOptedOut(api) == [])
            #expect(try await api.store.isSuppressed(["+15550001111"]).isEmpty)
            // And a good request still works afterwards.
            let good = try await api.send(
                .post, "/inbound/sms?from=15550001111&text=STOP&secret=\(APIHarness.smsSecret)", auth: false)
            #expect(good.status == 200)
            #expect(try await Self.smsOptedOut(api) == ["u1", "u2"])
        }
    }

    @Test func twilioInboundIsVerifiedAndAnsweredWithTwiML() async throws {
        try await APIHarness.run { api in
            try await Self.seed(api)
            // Computed independently (Python hmac) for token 12345 over
            // https://herald.example.com/inbound/sms + Body, From, MessageSid.
            let signature = "mDSrs5lMZu+xfdFSYai/+H1hY3Q="
            let r = try await api.postForm(
                "/inbound/sms", [("From", "+15550001111"), ("Body", "please stop"), ("MessageSid", "SM1")],
                headers: [HeaderField("X-Twilio-Signature", signature)])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.header("Content-Type") == "application/xml")
            #expect(r.text.contains("<Response><Message>You are unsubscribed"))
            #expect(try await Self.smsOptedOut(api) == ["u1", "u2"])
        }
    }

    @Test func twilioSignatureMatchesTheirDocumentedExample() {
        let params = [
            ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ].map { (name: $0.0, value: $0.1) }
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        #expect(
            TwilioSignature.compute(authToken: "12345", url: url, parameters: params)
                == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(
            TwilioSignature.isValid(
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", authToken: "12345", url: url, parameters: params))
        #expect(
            !TwilioSignature.isValid(
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", authToken: "12346", url: url, parameters: params))
    }

    @Test(arguments: [
        ("STOP", SMSKeyword.optOut), ("stop", .optOut), ("Stop.", .optOut), ("STOPALL", .optOut),
        ("unsubscribe", .optOut), ("Cancel", .optOut), ("END", .optOut), ("quit", .optOut),
        ("REVOKE", .optOut),
        ("OptOut", .optOut), ("opt out", .optOut), ("TD", .optOut), ("退订", .optOut), ("我要退订", .optOut),
        ("please stop", .optOut), ("Please STOP texting me", .optOut), ("START", .optIn), ("unstop", .optIn),
        ("Yes", .optIn), ("HELP", .help), ("info", .help),
    ])
    func keywords(_ text: String, _ expected: SMSKeyword) {
        #expect(SMSKeyword.classify(text) == expected)
    }

    @Test(arguments: [
        "", "what time do you open", "yes I will come on saturday", "Hello there", "stopwatch",
        "I told my friend about the sale and she said she would not stop buying from you ever",
    ])
    func ordinaryTextIsNoKeyword(_ text: String) {
        #expect(SMSKeyword.classify(text) == nil)
    }
}
