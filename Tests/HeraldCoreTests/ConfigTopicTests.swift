import Foundation
import Testing

@testable import HeraldCore

/// `topics:` in herald.yaml: campaigns and topic caps may name only declared topics (docs/campaigns.md, "Topics").
@Suite("Config: declared topics")
struct ConfigTopicTests {
    static let base = "store: { sqlite: var/t.db }\nattributes: { first_name: string }\n"

    @Test func topicsAreAListOfNamesWithOptionalDescriptions() throws {
        let (config, diags) = ConfigFixture.parseConfig(
            Self.base + "topics:\n  - promotions: Sales and offers\n  - reminders\n")
        #expect(diags.isEmpty, "\(diags)")
        let c = try #require(config)
        #expect(c.topics == [Topic(name: "promotions", description: "Sales and offers"), Topic(name: "reminders")])
    }

    @Test(arguments: [
        ("topics: { promotions: x }\n", "3:9: topics: expected a list such as [promotions, reminders], got a mapping"),
        ("topics: [promotions, Promo]\n", "3:22: topics[1]: 'Promo' is not a valid name; use [a-z0-9][a-z0-9_-]*"),
        ("topics: [promotions, promotions]\n", "3:22: topics[1]: topic 'promotions' is declared twice (first at line 3)"),
        ("topics:\n  - { a: x, b: y }\n", "4:5: topics[0]: expected a name, or one 'name: description' entry"),
    ])
    func badTopicListsAreLocated(_ yaml: String, _ expected: String) {
        let (config, diags) = ConfigFixture.parseConfig(Self.base + yaml)
        #expect(config == nil)
        #expect(ConfigFixture.brief(diags) == [expected])
    }

    @Test func aCapOnAnUndeclaredTopicIsAnError() {
        let (config, diags) = ConfigFixture.parseConfig(
            "store: { sqlite: var/t.db }\ntopics: [promotions]\npolicy:\n  caps:\n    - { topic: promotons, max: 2, per: 7d }\n")
        #expect(config == nil)
        #expect(
            ConfigFixture.brief(diags) == [
                "5:16: policy.caps[0].topic: topic 'promotons' is not declared in herald.yaml (topics: promotions)"
            ])
        #expect(diags.first?.suggestion == "did you mean 'promotions'?")
    }

    @Test func aMisspeltCampaignTopicIsAnErrorWithASuggestion() throws {
        let yaml = minimalCampaign.replacingOccurrences(of: "name: Test\n", with: "name: Test\ntopic: promotons\n")
        let (campaign, diags) = ConfigFixture.parseCampaign(yaml)
        #expect(campaign == nil)
        let d = try #require(diags.first)
        #expect(
            "\(d.location!.file):\(d.location!.line):\(d.location!.column): \(d.message)"
                == "c.yaml:3:8: topic: topic 'promotons' is not declared in herald.yaml (topics: promotions, reminders)")
        #expect(d.suggestion == "did you mean 'promotions'?")
        #expect(d.description.contains("topic: promotons\n       ^~~~~~~~~"), "\(d.description)")
        let (ok, none) = ConfigFixture.parseCampaign(
            minimalCampaign.replacingOccurrences(of: "name: Test\n", with: "name: Test\ntopic: promotions\n"))
        #expect(ok?.topic == "promotions" && none.isEmpty, "\(none)")
    }

    @Test func withoutDeclaredTopicsACampaignTopicIsRefused() throws {
        let dir = ConfigFixture.tempDir()
        let (config, _) = ConfigFixture.parseConfig(Self.base, base: dir)
        let c = try #require(config)
        let yaml = minimalCampaign.replacingOccurrences(of: "name: Test\n", with: "name: Test\ntopic: promotions\n")
        let (campaign, diags) = CampaignFile.parse(yaml: yaml, file: "c.yaml", config: c)
        #expect(campaign == nil)
        #expect(diags.first?.message.contains("herald.yaml declares no topics") == true, "\(diags)")
        // A campaign without a topic needs none declared.
        #expect(CampaignFile.parse(yaml: minimalCampaign, file: "c.yaml", config: c).0 != nil)
    }
}
