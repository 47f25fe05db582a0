import Foundation
import Testing

@testable import HeraldCore

@Suite("Config: the example herald.yaml and campaigns")
struct ConfigExamplesTests {
    let root = ConfigFixture.repoRoot

    func loadExample() -> (HeraldConfig?, [Diagnostic]) {
        HeraldConfig.load(path: root.appendingPathComponent("herald.yaml").path, environment: [:])
    }

    @Test func exampleConfigValidates() throws {
        let (config, diags) = loadExample()
        #expect(diags.isEmpty, "\(diags.map(\.description).joined(separator: "\n"))")
        let c = try #require(config)
        #expect(c.store == .sqlite(path: root.appendingPathComponent("var/herald.db").path))
        #expect(c.campaignsDirectory == root.appendingPathComponent("campaigns").path)
        #expect(c.templatesDirectory == root.appendingPathComponent("templates").path)
        #expect(c.channels.outbox == root.appendingPathComponent("var/outbox").path)
        #expect(c.attributes["lifetime_value"] == .number)
        #expect(c.attributes["vip_since"] == .timestamp)
        #expect(c.catalog.names.sorted() == ["engaged", "vip"])
        #expect(c.policy.caps.map(\.label) == ["any/7d", "sms/1d", "topic=promotions/7d"])
        #expect(c.policy.quietHours?.channels == [.sms])
        #expect(c.channels.email?.url == nil)
        #expect(c.channels.email?.from?.address == "news@shop.example")
        #expect(c.channels.email?.quota == SendRate(count: 100_000, perSeconds: 86_400))
        #expect(c.channels.webhookEndpoints["push-gateway"]?.rate == SendRate(count: 200, perSeconds: 1))
        #expect(c.api.port == 8025)
        let vip = try #require(c.segments.first { $0.name == "vip" })
        #expect(vip.origin.line == 27 && vip.origin.column == 8)
    }

    @Test func exampleCampaignsValidate() throws {
        let config = try #require(loadExample().0)
        let (campaigns, journeys, diags) = CampaignSet.loadAll(directory: config.campaignsDirectory, config: config)
        #expect(diags.isEmpty, "\(diags.map(\.description).joined(separator: "\n"))")
        #expect(campaigns.map(\.id) == ["birthday-sms", "flash-sale", "vip-offer", "winback-dormant"])
        #expect(journeys.map(\.id) == ["cart-recovery", "onboarding", "winback-journey"])
        let onboarding = try #require(journeys.first { $0.id == "onboarding" })
        #expect(onboarding.trigger == .event(name: "signed_up", delay: 600, cancelIf: nil))
        #expect(onboarding.steps.map(\.id) == [
            "welcome", "next-morning", "tips", "await-visit", "pick-channel", "coupon-email", "coupon-sms",
        ])
        #expect(onboarding.exitEvents == ["purchase"])
        let byID = Dictionary(uniqueKeysWithValues: campaigns.map { ($0.id, $0) })

        let winback = try #require(byID["winback-dormant"])
        #expect(winback.message.channel == .email && winback.message.fallback == [.sms])
        #expect(winback.message.email?.text?.file?.hasSuffix("templates/winback.txt") == true)
        #expect(winback.audience.segment.source.origin.line == 9)
        #expect(winback.audience.segment.source.origin.column == 5)
        #expect(winback.audience.exclude?.source.origin.column == 12)
        guard case .cron(let cron, let tz) = winback.trigger else { Issue.record("not cron"); return }
        #expect(tz == "Asia/Shanghai" && cron.daysOfWeek == [1])
        #expect(winback.limits.perUser == Campaign.PerUserLimit(max: 1, per: 30 * 86_400))
        #expect(winback.conversion == Campaign.Conversion(event: "purchase", within: 7 * 86_400))

        // Cart recovery: an hour's grace a purchase ends, the reminder, a day to buy, the final offer.
        let cart = try #require(journeys.first { $0.id == "cart-recovery" })
        #expect(cart.trigger == .event(name: "cart_abandoned", delay: 0, cancelIf: nil))
        #expect(cart.steps.map(\.id) == ["grace", "reminder", "await-purchase", "final-offer"])
        guard case .waitFor(let grace) = cart.steps[0].kind, case .waitFor(let last) = cart.steps[2].kind else {
            Issue.record("cart-recovery does not wait for purchases")
            return
        }
        #expect(grace.event == "purchase" && grace.within == 3600 && grace.onEvent == .exit)
        #expect(last.event == "purchase" && last.within == 86_400 && last.onTimeout == .step("final-offer"))
        #expect(cart.messageCampaign(for: cart.steps[1])?.message.webhook?.endpoint == "push-gateway")
        #expect(cart.reEntry == .after(86_400))
        #expect(cart.requirements.events.isSuperset(of: ["cart_abandoned", "purchase"]))

        // Win-back: a control path of 20% that sends nothing.
        let winbackJourney = try #require(journeys.first { $0.id == "winback-journey" })
        #expect(winbackJourney.trigger == .enteredSegment)
        guard case .split(let control) = winbackJourney.firstStep.kind else {
            Issue.record("winback-journey does not start with a split")
            return
        }
        #expect(control.arms.map(\.percent) == [80, 20])
        #expect(control.arms.map(\.goto) == [.step("miss-you"), .exit])

        let vip = try #require(byID["vip-offer"])
        #expect(vip.experiment?.holdoutPercent == 10)
        #expect(vip.experiment?.variants.map(\.id) == ["a", "b"])
        #expect(vip.experiment?.variants[0].message == nil)
        let b = try #require(vip.experiment?.variants[1].message)
        #expect(b.email?.subject.source.hasPrefix("Last chance") == true)
        #expect(b.email?.text == vip.message.email?.text)
        #expect(vip.trigger == .schedule(at: 1_796_115_600))

        let birthday = try #require(byID["birthday-sms"])
        #expect(birthday.sendTime.strategy == .localTime && birthday.sendTime.localTime == ClockTime(hour: 9, minute: 0))
        #expect(birthday.sendTime.within == 25 * 3600)
    }

    /// cart-recovery reminds everyone but the VIPs who demonstrably ignore messages: a VIP with no send in 90
    /// days (null engagement) is reminded, as is one who engaged; a VIP who engaged with nothing is not.
    @Test func cartRecoveryKeepsVIPsWithoutSendsAndDropsOnlyThoseWhoNeverEngage() throws {
        let config = try #require(loadExample().0)
        let journeys = CampaignSet.loadAll(directory: config.campaignsDirectory, config: config).journeys
        let cart = try #require(journeys.first { $0.id == "cart-recovery" })
        let now = SegFixture.now
        // Five buyers with 1…5 purchases of rising amounts: b4 and b5 score rfm_f and rfm_m ≥ 4, so are VIPs.
        func buyer(_ n: Int, engagement: Double?) -> UserFacts {
            SegFixture.user(
                "b\(n)", events: (0..<n).map { ("purchase", now - Int64($0 + 1) * 86_400, Double(n * 100)) },
                engagement: engagement)
        }
        let users = [
            buyer(1, engagement: nil), buyer(2, engagement: 0), buyer(3, engagement: 0.5),
            buyer(4, engagement: nil), buyer(5, engagement: 0),
        ]
        let env = EvaluationEnvironment(now: now, lifecycle: config.lifecycle, defaultTimeZone: "UTC")
        let snapshot = AudienceSnapshot(facts: users, schema: config.attributes)
        let population = PopulationStats.compute(snapshot, env)
        let vip = try #require(config.catalog.segment(named: "vip"))
        #expect(users.map { vip.matches($0, env, population: population) } == [false, false, false, true, true])
        let expected = [true, true, true, true, false]
        #expect(users.map { cart.audience.segment.matches($0, env, population: population) } == expected)
        #expect(cart.audience.segment.evaluate(snapshot, env, population: population) == expected)
        var engaged = users[4]
        engaged.engagement = 0.25
        #expect(cart.audience.segment.matches(engaged, env, population: population))
    }

    @Test func locateOrder() {
        #expect(HeraldConfig.locate(explicit: "/x/h.yaml", environment: ["HERALD_CONFIG": "/y"]) == "/x/h.yaml")
        #expect(HeraldConfig.locate(explicit: nil, environment: ["HERALD_CONFIG": "/y/h.yaml"]) == "/y/h.yaml")
    }
}

@Suite("Config: snapshots and reload")
struct ConfigSnapshotTests {
    @Test func failedReloadKeepsTheOldSnapshot() throws {
        let dir = ConfigFixture.tempDir()
        let path = ConfigFixture.write("campaigns: c\nattributes: { first_name: string }\n", to: "herald.yaml", in: dir).path
        ConfigFixture.write(minimalCampaign, to: "c/a.yaml", in: dir)
        let live = LiveBook(try CampaignBook.load(path: path, environment: [:]).get())
        #expect(live.current.campaigns.map(\.id) == ["test-campaign"])

        ConfigFixture.write("id: broken\n", to: "c/b.yaml", in: dir)
        guard case .failure(let failed) = CampaignBook.load(path: path, environment: [:]) else {
            Issue.record("a broken campaign file loaded")
            return
        }
        #expect(failed.diagnostics.hasErrors)
        #expect(live.current.campaigns.map(\.id) == ["test-campaign"])

        ConfigFixture.write(minimalCampaign.replacingOccurrences(of: "test-campaign", with: "second"), to: "c/b.yaml", in: dir)
        live.swap(try CampaignBook.load(path: path, environment: [:]).get())
        #expect(live.current.campaigns.map(\.id) == ["test-campaign", "second"])
        #expect(live.current.campaign("second")?.name == "Test")
    }

    @Test func secretFileReadsWithoutLeakingContent() throws {
        let dir = ConfigFixture.tempDir()
        let path = ConfigFixture.write("tok-123\n", to: "t", in: dir).path
        #expect(try SecretFile.read(path, field: "api.token_file").get() == "tok-123")
        guard case .failure(let f) = SecretFile.read(dir.path + "/missing", field: "api.token_file") else {
            Issue.record("read a missing file")
            return
        }
        #expect(f.diagnostic.message == "api.token_file: cannot read '\(dir.path)/missing'")
    }
}

@Suite("Config: campaign helpers")
struct ConfigCampaignHelperTests {
    @Test func variantMessageFallsBackToTheCampaignMessage() throws {
        let root = ConfigFixture.repoRoot
        let config = try #require(HeraldConfig.load(path: root.appendingPathComponent("herald.yaml").path, environment: [:]).0)
        let (c, diags) = CampaignFile.load(path: root.appendingPathComponent("campaigns/vip-offer.yaml").path, config: config)
        #expect(diags.isEmpty)
        let vip = try #require(c)
        #expect(vip.message(forVariant: "a") == vip.message)
        #expect(vip.message(forVariant: nil) == vip.message)
        #expect(vip.message(forVariant: "b").email?.subject.source.hasPrefix("Last chance") == true)
    }
}
