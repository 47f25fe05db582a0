import Foundation
import Testing

@testable import HeraldCore

/// `channels.push` and `message.push`: what is accepted, and each mistake named with its place (docs/push.md).
@Suite("Config: push channel")
struct ConfigPushTests {
    static func campaign(_ message: String) -> String {
        "id: c1\nname: C\naudience:\n  segment: \"true\"\ntrigger:\n  api: true\n" + message
    }

    @Test func aPushMessageIsParsedWithEveryField() throws {
        let (c, diags) = ConfigFixture.parseCampaign(Self.campaign("""
            message:
              channel: push
              fallback: [sms]
              push:
                title: "{{first_name|Hi}}, your cart"
                body: Complete your order.
                data: { deep_link: "shop://cart", campaign: "{{campaign_id}}" }
                badge: 1
                sound: default
                collapse_id: cart
                ttl: 24h
                priority: normal
              sms: { text: hi }
            experiment:
              variants:
                - { id: a, weight: 50 }
                - { id: b, weight: 50, message: { push: { title: "B title" } } }
            """))
        #expect(diags.isEmpty, "\(diags)")
        let campaign = try #require(c)
        let push = try #require(campaign.message.push)
        #expect(push.badge == 1 && push.sound == "default" && push.collapseID == "cart" && push.ttl == 86_400)
        #expect(push.highPriority == false)
        #expect(push.data?.map(\.key) == ["deep_link", "campaign"])
        // A variant overrides the title alone and keeps the rest.
        let b = try #require(campaign.message(forVariant: "b").push)
        #expect(b.title?.render { _ in nil } == "B title")
        #expect(b.body == push.body && b.collapseID == "cart")
        let rendered = RenderedMessage.render(
            campaign: campaign, variant: "a", channel: .push,
            facts: UserFacts(profile: UserProfile(id: "u1", attributes: ["first_name": .string("Ana")])), unsubscribeURL: nil)
        #expect(rendered.push?.title == "Ana, your cart")
        #expect(rendered.push?.data["campaign"] == "c1")
    }

    @Test(arguments: [
        ("message:\n  channel: push\n", "8:3: message: channel push needs push.title, push.body or push.data"),
        ("message:\n  channel: push\n  push:\n    title: hi\n    collapse_id: \(String(repeating: "x", count: 65))\n",
         "11:18: message.push.collapse_id: at most 64 bytes (APNs' limit), got 65"),
        ("message:\n  channel: push\n  push:\n    title: hi\n    priority: urgent\n",
         "11:15: message.push.priority: expected high or normal, got 'urgent'"),
        ("message:\n  channel: push\n  push:\n    title: hi\n    data: { herald_key: x }\n",
         "11:13: message.push.data.herald_key: set by Herald (the ledger key the app reports opens with)"),
        ("message:\n  channel: push\n  push:\n    title: hi\n    ttl: 60d\n",
         "11:10: message.push.ttl: at most 28 days (the longest FCM and Web Push keep a message)"),
    ])
    func mistakesAreNamedWithTheirPlace(_ message: String, _ expected: String) {
        let (_, diags) = ConfigFixture.parseCampaign(Self.campaign(message))
        #expect(ConfigFixture.brief(diags).contains(expected), "\(ConfigFixture.brief(diags))")
    }

    @Test func channelsPushNamesEachBadField() {
        let dir = ConfigFixture.tempDir()
        ConfigFixture.write("key", to: "apns.p8", in: dir)
        let yaml = """
            store: { sqlite: var/test.db }
            channels:
              push:
                rate: 500/s
                apns:
                  team_id: SHORT
                  key_id: KEY1234567
                  key_file: apns.p8
                  topic: com.example.shop
                  environment: staging
                fcm:
                  service_account_file: missing.json
                webpush:
                  subject: ops@shop.example
                  private_key_file: apns.p8
            """
        let (_, diags) = HeraldConfig.parse(yaml: yaml, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        let brief = ConfigFixture.brief(diags).joined(separator: "\n")
        #expect(brief.contains("6:16: channels.push.apns.team_id: expected Apple's 10-character id, got 'SHORT'"), "\(brief)")
        #expect(brief.contains("channels.push.apns.environment: expected production or development, got 'staging'"))
        #expect(brief.contains("channels.push.fcm.service_account_file: cannot read"))
        #expect(brief.contains("channels.push.webpush.subject: expected a mailto: or https: contact"))
    }

    @Test func aValidPushSectionIsRead() throws {
        let dir = ConfigFixture.tempDir()
        ConfigFixture.write("key", to: "apns.p8", in: dir)
        ConfigFixture.write("{}", to: "fcm.json", in: dir)
        let yaml = """
            store: { sqlite: var/test.db }
            channels:
              push:
                rate: 500/s
                apns: { team_id: ABCDE12345, key_id: KEY1234567, key_file: apns.p8, topic: com.example.shop, environment: development }
                fcm: { service_account_file: fcm.json, url: "https://127.0.0.1:9/" }
            """
        let (config, diags) = HeraldConfig.parse(yaml: yaml, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        #expect(diags.isEmpty, "\(diags)")
        let push = try #require(config?.channels.push)
        #expect(push.rate?.count == 500 && push.apns?.development == true && push.apns?.topic == "com.example.shop")
        #expect(push.fcm?.url == "https://127.0.0.1:9" && push.webPush == nil)
    }
}
