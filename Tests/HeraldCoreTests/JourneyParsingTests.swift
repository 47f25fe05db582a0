import Foundation
import Testing

@testable import HeraldCore

@Suite("Journey: parsing journey files")
struct JourneyParsingTests {
    /// The documented example, verbatim: it is read as a journey, and its illustrative split (which leads back
    /// to `coupon-sms`, the step before it) is the loop the rules forbid. Until push is a channel, `tips` is
    /// also refused for its channel.
    @Test func documentedExampleIsReadAndItsLoopFound() {
        let (content, diags) = JourneyFixture.load(specJourneyExample)
        #expect(content == nil)
        let errors = ConfigFixture.brief(diags.filter(\.isError))
        let others = errors.filter { !$0.hasPrefix("20:") }
        #expect(
            others == [
                "36:35: steps[7].split[0].goto: 'coupon-sms' points back to an earlier step (line 33); steps can only "
                    + "lead forward, so a journey cannot loop"
            ])
        if ChannelKind(rawValue: "push") == nil {
            #expect(
                errors.contains(
                    "20:25: steps[2].message.channel: expected one of email, sms, webhook, got 'push'"))
        } else {
            #expect(errors.count == 1)
        }
        #expect(diags.allSatisfy { $0.location?.file.hasSuffix("campaigns/j.yaml") == true })
    }

    @Test func runnableExampleHasEveryField() throws {
        let (content, diags) = JourneyFixture.load(runnableJourney)
        #expect(diags.isEmpty, "\(diags.map(\.description))")
        guard case .journey(let j)? = content else { throw JourneyTestError.notAJourney }
        #expect(
            j.id == "onboarding" && j.name == "Onboarding series" && j.status == .active
                && j.topic == "onboarding")
        #expect(j.trigger == .event(name: "signed_up", delay: 600, cancelIf: nil))
        #expect(j.reEntry == .after(30 * 86_400))
        #expect(j.exitEvents == ["purchase"])
        #expect(j.exitSegments.map(\.source.text) == ["lifecycle == \"churned\""])
        #expect(j.conversion == Campaign.Conversion(event: "purchase", within: 14 * 86_400))
        #expect(j.version == JourneyVersion(content: runnableJourney))
        #expect(
            j.steps.map(\.id) == [
                "welcome", "day-1", "tips", "await-purchase", "pick-channel", "coupon-email", "control-split",
                "coupon-sms",
            ])
        #expect(
            j.steps.map(\.kind.name) == [
                "message", "wait", "message", "wait_for", "branch", "message", "split", "message",
            ])
        #expect(j.steps.map(\.location.line) == [14, 17, 19, 22, 26, 30, 33, 35])
        #expect(j.steps[0].location.column == 9)
        let targets = j.steps.map { $0.targets.map(\.description) }
        #expect(
            targets == [
                ["day-1"], ["tips"], ["await-purchase"], ["exit", "pick-channel"],
                ["coupon-email", "control-split"],
                ["exit"], ["coupon-sms", "exit"], ["exit"],
            ])
        guard case .message(let welcome) = j.steps[0].kind, case .wait(let day1) = j.steps[1].kind,
            case .message(let tips) = j.steps[2].kind, case .waitFor(let waitFor) = j.steps[3].kind,
            case .split(let split) = j.steps[6].kind, case .message(let sms) = j.steps[7].kind
        else { throw JourneyTestError.notAJourney }
        #expect(welcome.message.channel == .email && welcome.onCapped == .defer)
        #expect(welcome.sendTime == Campaign.SendTime(strategy: .immediate, within: 86_400))
        #expect(day1.length == .until(ClockTime(hour: 9, minute: 0), days: [.mon, .tue, .wed, .thu, .fri]))
        #expect(tips.sendTime.strategy == .bestTime && tips.message.webhook?.endpoint == "push-gateway")
        #expect(waitFor.event == "purchase" && waitFor.within == 2 * 86_400)
        #expect(waitFor.filter?.description == "(>= amount 10)")
        #expect(
            split.arms == [.init(percent: 90, goto: .step("coupon-sms")), .init(percent: 10, goto: .exit)])
        #expect(
            sms.onCapped == .skip && sms.sendTime == Campaign.SendTime(strategy: .immediate, within: 86_400))
    }

    /// The example at the top of docs/journeys.md is a valid journey.
    @Test func docsExampleIsValid() throws {
        let doc = try String(
            contentsOf: ConfigFixture.repoRoot.appendingPathComponent("docs/journeys.md"), encoding: .utf8)
        let block = try #require(
            doc.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let j = try #require(JourneyFixture.journey(block))
        #expect(j.steps.count == 8 && j.id == "onboarding")
    }

    @Test func defaultsForAMinimalJourney() throws {
        let yaml = """
            id: j1
            name: J
            audience: { segment: lifecycle == "new" }
            trigger: { api: true }
            steps:
              - { id: only, wait: 1h }
            """
        let j = try #require(JourneyFixture.journey(yaml))
        #expect(
            j.status == .active && j.reEntry == .never && j.exitWhen.isEmpty && j.topic == nil
                && j.priority == 0)
        #expect(j.firstStep.targets == [.exit])
        #expect(j.entryTarget == .step("only"))
    }

    @Test func aCampaignStillParsesAsACampaign() {
        let (content, diags) = JourneyFixture.parse(minimalCampaign)
        #expect(diags.isEmpty)
        guard case .campaign(let c)? = content else {
            Issue.record("expected a campaign")
            return
        }
        #expect(c.id == "test-campaign")
    }

    /// Callers that read campaigns only are told the file is a journey instead of getting nothing.
    @Test func campaignOnlyReadersRefuseAJourney() {
        let (config, _) = JourneyFixture.config()
        let (campaign, diags) = CampaignFile.parse(yaml: runnableJourney, file: "j.yaml", config: config)
        #expect(campaign == nil)
        #expect(
            diags.map(\.message) == ["'j.yaml' is a journey (it has steps:), not a single-message campaign"])
    }

    @Test func messageMeetsCampaignAndJourneyFields() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        let c = try #require(j.messageCampaign(for: j.steps[2]))
        #expect(c.id == "onboarding" && c.topic == "onboarding" && c.sendTime.strategy == .bestTime)
        #expect(c.message.channel == .webhook && c.experiment == nil && c.conversion == j.conversion)
        #expect(j.messageCampaign(for: j.steps[1]) == nil)
        let r = j.requirements
        #expect(r.events == ["signed_up", "purchase"])
    }

    @Test func versionIsStableAndChangesWithAnyEdit() {
        let a = JourneyVersion(content: runnableJourney)
        #expect(a == JourneyVersion(content: runnableJourney))
        #expect(a.hex.count == 32)
        #expect(JourneyVersion(hex: a.hex) == a)
        #expect(JourneyVersion(hex: "XYZ") == nil)
        #expect(a != JourneyVersion(content: runnableJourney + "\n"))
        #expect(a != JourneyVersion(content: runnableJourney.replacingOccurrences(of: "90", with: "80")))
        // Pinned: the version is part of stored instances, so it must never change between builds.
        #expect(JourneyVersion(content: "id: x\n").hex == Self.pinnedVersion)
    }

    static let pinnedVersion = "a46848b8645584800f95ecf04c54e468"
}

enum JourneyTestError: Error { case notAJourney }
