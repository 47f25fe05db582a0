import Testing

@testable import HeraldCore

/// Fixtures for the decision tests: campaigns, users and planning inputs built in memory.
enum DecisionFixture {
    static let hour: Int64 = 3600
    static let day: Int64 = 86_400

    /// Epoch seconds of an ISO-8601 text.
    static func t(_ iso: String) -> Int64 {
        let ms = try! TimestampParser.parseISO(iso).get()
        return ms / 1000
    }

    static func template(_ text: String) -> MessageTemplate { MessageTemplate.parse(text).0 }

    /// A campaign with sensible defaults; every argument changes one thing.
    static func campaign(
        id: String = "promo", topic: String? = "promotions", priority: Int = 50, transactional: Bool = false,
        segment: String = "id != \"\"", strategy: Campaign.SendStrategy = .immediate,
        within: Int64 = 48 * 3600,
        localTime: ClockTime? = nil, perUser: Campaign.PerUserLimit? = nil,
        experiment: Campaign.Experiment? = nil,
        channel: ChannelKind = .email, fallback: [ChannelKind] = []
    ) -> Campaign {
        let message = Campaign.Message(
            channel: channel, fallback: fallback,
            email: Campaign.EmailBody(
                subject: template("Hi {{first_name|there}}"), text: template("Body for {{user_id}}")),
            sms: template("Hi {{first_name|there}}, 20% off. Reply STOP to opt out."),
            webhook: Campaign.WebhookBody(
                endpoint: "push",
                body: .object([Campaign.BodyField(key: "user", value: .template(template("{{user_id}}")))])))
        return Campaign(
            id: id, name: id, status: .active, topic: topic, priority: priority, transactional: transactional,
            audience: Campaign.Audience(segment: SegFixture.compile(segment)!), trigger: .api,
            sendTime: Campaign.SendTime(strategy: strategy, within: within, localTime: localTime),
            limits: Campaign.Limits(perUser: perUser), experiment: experiment, conversion: nil,
            message: message,
            file: "\(id).yaml")
    }

    /// A user with contact details, a zone, activity timestamps and engagement.
    static func user(
        _ id: String, email: String? = nil, phone: String? = nil, timezone: String? = "UTC",
        events: [Int64] = [],
        engagement: Double? = nil, birthday: CivilDate? = nil, firstName: String? = nil
    ) -> UserFacts {
        var f = SegFixture.user(
            id, events: events.map { ("visit", $0, nil) }, timezone: timezone, birthday: birthday,
            engagement: engagement)
        f.profile.email = email
        f.profile.phone = phone
        if let firstName { f.profile.attributes["first_name"] = .string(firstName) }
        return f
    }

    /// Inputs over `users` at `now`.
    static func inputs(
        _ users: [UserFacts], now: Int64, policy: PolicyConfig = PolicyConfig(),
        consent: [String: ConsentState] = [:], suppressions: [String: [String]] = [:],
        history: [String: [SendRecord]] = [:]
    ) -> PlanningInputs {
        let snapshot = SegFixture.snapshot(users)
        let env = EvaluationEnvironment(now: now, defaultTimeZone: policy.defaultTimezone)
        return PlanningInputs(
            snapshot: snapshot, population: PopulationStats.compute(snapshot, env), environment: env,
            policy: policy,
            consent: consent, suppressions: suppressions, history: history)
    }

    /// The decisions of `campaign` triggered at `start` and planned at `now` (default: `start`).
    static func plan(
        _ campaign: Campaign, _ users: [UserFacts], start: Int64, now: Int64? = nil,
        policy: PolicyConfig = PolicyConfig(),
        consent: [String: ConsentState] = [:], suppressions: [String: [String]] = [:],
        history: [String: [SendRecord]] = [:]
    ) -> [Decision] {
        let inputs = inputs(
            users, now: now ?? start, policy: policy, consent: consent, suppressions: suppressions,
            history: history)
        return DecisionPipeline(campaign: campaign, occurrence: Occurrence(start: start), inputs: inputs)
            .plan()
    }

    /// The one decision for a single-user audience.
    static func decide(
        _ campaign: Campaign, _ user: UserFacts, start: Int64, now: Int64? = nil,
        policy: PolicyConfig = PolicyConfig(),
        consent: [String: ConsentState] = [:], suppressions: [String: [String]] = [:],
        history: [String: [SendRecord]] = [:]
    ) -> Decision {
        let all = plan(
            campaign, [user], start: start, now: now, policy: policy, consent: consent,
            suppressions: suppressions,
            history: history)
        #expect(all.count == 1)
        return all.first
            ?? Decision(user: "", campaign: "", occurrence: "", outcome: .suppressed, reason: "none")
    }
}
