import Testing

@testable import HeraldCore

@Suite("Decision: frequency caps")
struct DecisionCapsTests {
    typealias F = DecisionFixture
    static let now = F.t("2026-11-23T10:00:00Z")
    static let weekly = PolicyConfig(caps: [CapRule(scope: .anyChannel, max: 1, per: 7 * 86_400)])

    static func past(
        _ ago: Int64, channel: ChannelKind = .email, topic: String? = "promotions", campaign: String = "other"
    )
        -> SendRecord
    {
        SendRecord(at: now - ago, channel: channel, topic: topic, campaign: campaign)
    }

    /// The window edge: a send exactly `per` ago still counts (`now - per <= t`), one a second older does not.
    @Test(
        arguments: [
            (7 * 86_400 - 1, "cap:any/7d"), (7 * 86_400, "cap:any/7d"), (7 * 86_400 + 1, nil),
            (-3600, "cap:any/7d"),
        ] as [(Int64, String?)])
    func windowEdge(_ ago: Int64, _ reason: String?) {
        let u = F.user("u1", email: "u1@example.com")
        let d = F.decide(
            F.campaign(), u, start: Self.now, policy: Self.weekly, history: ["u1": [Self.past(ago)]])
        #expect(d.reason == reason)
        #expect((d.outcome == .send) == (reason == nil))
    }

    @Test func scopesBindOnlyTheirChannelAndTopic() {
        let policy = PolicyConfig(caps: [
            CapRule(scope: .channel(.sms), max: 1, per: 86_400),
            CapRule(scope: .topic("promotions"), max: 1, per: 7 * 86_400),
        ])
        let u = F.user("u1", email: "u1@example.com", phone: "+15550001111")
        let smsYesterday = Self.past(3600, channel: .sms, topic: "news")
        // An email about promotions: the SMS cap does not bind it, and no promotions were sent.
        #expect(
            F.decide(F.campaign(), u, start: Self.now, policy: policy, history: ["u1": [smsYesterday]])
                .outcome == .send)
        // An SMS: bound by the SMS cap.
        #expect(
            F.decide(
                F.campaign(channel: .sms), u, start: Self.now, policy: policy, history: ["u1": [smsYesterday]]
            ).reason
                == "cap:sms/1d")
        // An email on topic promotions after a promotions send: the topic cap binds.
        let promo = Self.past(3600, channel: .webhook, topic: "promotions")
        #expect(
            F.decide(F.campaign(), u, start: Self.now, policy: policy, history: ["u1": [promo]]).reason
                == "cap:topic=promotions/7d")
    }

    @Test func campaignPerUserLimit() {
        let c = F.campaign(id: "winback", perUser: Campaign.PerUserLimit(max: 1, per: 30 * 86_400))
        let u = F.user("u1", email: "u1@example.com")
        let old = Self.past(30 * 86_400 + 1, campaign: "winback")
        let edge = Self.past(30 * 86_400, campaign: "winback")
        #expect(F.decide(c, u, start: Self.now, history: ["u1": [old]]).outcome == .send)
        #expect(F.decide(c, u, start: Self.now, history: ["u1": [edge]]).reason == "cap:campaign/30d")
    }

    @Test func transactionalIsExemptFromGlobalCapsAndUncounted() {
        let u = F.user("u1", email: "u1@example.com")
        let full = ["u1": [Self.past(60)]]
        #expect(
            F.decide(F.campaign(transactional: true), u, start: Self.now, policy: Self.weekly, history: full)
                .outcome == .send)
        // A transactional send in the history does not use up the cap of a marketing send.
        var receipt = Self.past(60)
        receipt.transactional = true
        #expect(
            F.decide(F.campaign(), u, start: Self.now, policy: Self.weekly, history: ["u1": [receipt]])
                .outcome == .send)
    }

    /// The adaptive rule: max(1, round(max × clamp(engagement / 0.25, 0.25, 1))); no history → max.
    @Test(
        arguments: [
            (3, nil, 3), (3, 0.0, 1), (3, 0.1, 1), (3, 0.15, 2), (3, 0.25, 3), (3, 0.9, 3), (10, 0.0, 3),
            (10, 0.125, 5),
            (1, 0.0, 1), (4, 0.2, 3),
        ] as [(Int, Double?, Int)])
    func adaptiveMax(_ max: Int, _ engagement: Double?, _ expected: Int) {
        #expect(CapPolicy.adaptiveMax(max, engagement: engagement) == expected)
    }

    @Test func adaptiveCapsApplyInThePipeline() {
        let policy = PolicyConfig(
            caps: [CapRule(scope: .anyChannel, max: 3, per: 7 * 86_400)], adaptiveCaps: true)
        let history = ["cold": [Self.past(3600)], "hot": [Self.past(3600)], "new": [Self.past(3600)]]
        let users = [
            F.user("cold", email: "c@example.com", engagement: 0),
            F.user("hot", email: "h@example.com", engagement: 0.5),
            F.user("new", email: "n@example.com"),
        ]
        let ds = F.plan(F.campaign(), users, start: Self.now, policy: policy, history: history)
        #expect(ds.map(\.reason) == ["cap:any/7d", nil, nil])
    }

    /// Two campaigns compete for one slot of cap room: the higher priority plans first and takes it.
    @Test func priorityConsumesCapRoomFirst() {
        let users = [F.user("u1", email: "u1@example.com"), F.user("u2", email: "u2@example.com")]
        let inputs = F.inputs(users, now: Self.now, policy: Self.weekly, history: ["u2": [Self.past(60)]])
        let low = F.campaign(id: "low", priority: 10)
        let high = F.campaign(id: "high", priority: 90)
        let ds = DecisionPipeline.planAll(
            [(low, Occurrence(start: Self.now)), (high, Occurrence(start: Self.now))], inputs: inputs)
        let byKey = Dictionary(uniqueKeysWithValues: ds.map { ("\($0.campaign)/\($0.user)", $0) })
        #expect(byKey["high/u1"]?.outcome == .send)
        #expect(byKey["low/u1"]?.reason == "cap:any/7d")
        #expect(byKey["high/u2"]?.reason == "cap:any/7d")
        #expect(ds.first?.campaign == "high")
    }
}
