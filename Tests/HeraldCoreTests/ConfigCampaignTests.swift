import Foundation
import Testing

@testable import HeraldCore

/// A campaign: four header lines (id, name, audience, segment), then `body` from line 5.
private func campaign(_ body: String) -> String {
    "id: c1\nname: C\naudience:\n  segment: lifecycle == \"active\"\n" + body
}

private let smsMessage = "message: { channel: sms, sms: { text: hi } }\n"

@Suite("Config: campaign file diagnostics")
struct ConfigCampaignTests {
    @Test(arguments: [
        ("trigger:\n  cron: \"0 25 * * *\"\n" + smsMessage,
         "6:12: trigger.cron: invalid cron expression '0 25 * * *': hour field '25': value out of range 0-23", nil),
        ("trigger:\n  schedule: 2026-12-01T09:00:00\n" + smsMessage,
         "6:13: trigger.schedule: expected an ISO-8601 time with an offset such as 2026-12-01T09:00:00Z, got '2026-12-01T09:00:00' (missing offset",
         nil),
        ("trigger:\n  cron: \"0 9 * * *\"\n  tz: Asia/Shanghia\n" + smsMessage,
         "7:7: trigger.tz: unknown time zone 'Asia/Shanghia'", "did you mean 'Asia/Shanghai'?"),
        ("trigger:\n  event: signed_up\n  api: true\n" + smsMessage,
         "7:3: trigger: give exactly one of schedule, cron, event, entered_segment, api; found event and api", nil),
        ("trigger:\n  api: true\n  delay: 1h\n" + smsMessage, "7:3: trigger.delay only applies to 'event' triggers", nil),
        ("trigger:\n  event: cart_abandoned\n  dealy: 1h\n" + smsMessage,
         "7:3: unknown key 'dealy' in trigger; known keys: schedule, cron, event, entered_segment, api, tz, delay, cancel_if",
         "did you mean 'delay'?"),
        ("trigger:\n  event: cart_abandoned\n  delay: soon\n" + smsMessage,
         "7:10: trigger.delay: expected a duration such as 30d, got 'soon'", nil),
        ("trigger:\n  event: cart_abandoned\n  cancel_if: { event: purchase }\n" + smsMessage,
         "7:14: trigger.cancel_if: missing required key 'within'", nil),
        ("trigger:\n  entered_segment: false\n" + smsMessage,
         "6:20: trigger.entered_segment: only 'true' is meaningful; remove the key instead", nil),
        ("topic: Promo Stuff\ntrigger: { api: true }\n" + smsMessage,
         "5:8: topic: 'Promo Stuff' is not a valid name; use [a-z0-9][a-z0-9_-]*", nil),
        ("status: actve\ntrigger: { api: true }\n" + smsMessage,
         "5:9: status: expected one of active, paused, draft, got 'actve'", "did you mean 'active'?"),
        ("trigger: { api: true }\nmessage:\n  channel: sms\n  sms:\n    text: \"Hi {{frist_name}}\"\n",
         "9:15: message.sms.text: unknown template field 'frist_name'; templates can use profile fields, declared attributes, user_id, unsubscribe_url, campaign_id and variant",
         "did you mean 'first_name'?"),
        ("trigger: { api: true }\nmessage:\n  channel: sms\n  sms:\n    text: |\n      Hello\n      and {{ countyr }}\n",
         "11:11: message.sms.text: unknown template field 'countyr'", "did you mean 'country'?"),
        ("trigger: { api: true }\nmessage:\n  channel: sms\n  sms:\n    text: \"{{> header}}\"\n",
         "9:12: message.sms.text: template error: partials ('{{> header}}') are not supported", nil),
        ("trigger: { api: true }\nmessage:\n  channel: webhook\n  webhook:\n    endpoint: push-gatway\n    body: { title: hi }\n",
         "9:15: message.webhook.endpoint: unknown endpoint 'push-gatway' (configured: push-gateway in channels.webhook.endpoints)",
         "did you mean 'push-gateway'?"),
        ("trigger: { api: true }\nmessage:\n  channel: sms\n  fallback: [email]\n  sms: { text: hi }\n",
         "7:3: message: fallback channel email needs email.subject and email.text or email.html", nil),
        ("trigger: { api: true }\nmessage:\n  channel: email\n  email:\n    subject: Hi\n    text: nothere.txt\n",
         "10:11: message.email.text: template file 'nothere.txt' not found in '", nil),
        ("trigger: { api: true }\nexperiment:\n  holdout: 10%\n  variants:\n    - { id: a, weight: 50% }\n    - { id: b, weight: 40% }\n"
            + smsMessage,
         "9:5: experiment.variants: weights given as percentages sum to 90%, expected 100%", nil),
        ("trigger: { api: true }\nexperiment:\n  variants:\n    - { id: a, weight: 1 }\n    - { id: a, weight: 1 }\n" + smsMessage,
         "9:13: experiment.variants[1].id: duplicate variant id 'a' (first used at line 8)", nil),
        ("trigger: { api: true }\nexperiment:\n  holdout: 120%\n" + smsMessage,
         "7:12: experiment.holdout: expected a percentage from 0% to 100% such as 10%, got '120%'", nil),
        ("trigger: { api: true }\nexperiment:\n  variants:\n    - id: b\n      weight: 1\n      message:\n        sms: { text: \"{{nope}}\" }\n"
            + smsMessage,
         "11:23: experiment.variants[0].message.sms.text: unknown template field 'nope'", nil),
        ("trigger: { api: true }\nsend_time:\n  strategy: local_time\n" + smsMessage,
         "7:3: send_time: strategy local_time needs 'local_time' such as \"10:00\"", nil),
        ("trigger: { api: true }\nlimits:\n  per_user: { max: 1, per: monthly }\n" + smsMessage,
         "7:28: limits.per_user.per: expected a duration such as 30d, got 'monthly'", nil),
        ("trigger: { api: true }\nconversion: { event: purchase }\n" + smsMessage,
         "6:13: conversion: missing required key 'within'", nil),
        ("", "1:1: campaign: missing required key 'trigger'", nil),
        ("trigger: { api: true }\nmessage:\n  channel: webhook\n  webhook:\n    endpoint: push-gateway\n    body: hello\n",
         "10:11: message.webhook.body: expected a mapping (the JSON object to send), got 'hello'", nil),
        ("trigger: { api: true }\nexperiment:\n  variants:\n    - id: b\n      weight: 1\n      message: { channel: email }\n"
            + smsMessage,
         "10:16: experiment.variants[0].message: channel email needs email.subject and email.text or email.html", nil),
        ("trigger: { api: true }\nexperiment:\n  variants:\n    - { id: a, weight: 50% }\n    - { id: b, weight: 2 }\n"
            + smsMessage,
         "8:5: experiment.variants: give every weight as a percentage, or none", nil),
        ("trigger: { api: true }\nexperiment:\n  variants:\n    - { id: a, weight: -1 }\n" + smsMessage,
         "8:24: experiment.variants[0].weight: expected a positive weight such as 50 or 50%, got '-1'", nil),
    ] as [(String, String, String?)])
    func reportsLocatedError(body: String, expected: String, suggestion: String?) {
        let (c, diags) = ConfigFixture.parseCampaign(campaign(body))
        #expect(c == nil)
        let briefs = ConfigFixture.brief(diags)
        #expect(briefs.contains { $0.hasPrefix(expected) }, "\(briefs)")
        if let suggestion { #expect(diags.contains { $0.suggestion == suggestion }, "\(diags)") }
        #expect(diags.allSatisfy { $0.location?.file == "c.yaml" && $0.sourceLine != nil })
    }

    @Test func minimalCampaignIsValid() throws {
        let (c, diags) = ConfigFixture.parseCampaign(minimalCampaign)
        #expect(diags.isEmpty, "\(diags)")
        let campaign = try #require(c)
        #expect(campaign.status == .active && campaign.priority == 0 && !campaign.transactional)
        #expect(campaign.sendTime == Campaign.SendTime(strategy: .immediate, within: 86_400, localTime: nil))
        #expect(campaign.trigger == .api)
    }

    @Test func reportsEveryErrorInOneFile() {
        let yaml = campaign("""
            topic: Bad Topic
            trigger:
              cron: "61 * * * *"
            limits:
              rate: fast
            message:
              channel: sms
              sms: { text: "{{frist_name}} {{plan}}" }
            """)
        let (c, diags) = ConfigFixture.parseCampaign(yaml)
        #expect(c == nil)
        #expect(ConfigFixture.brief(diags).map { String($0.prefix(while: { $0 != " " })) } == [
            "5:8:", "7:10:", "9:9:", "12:17:", "12:32:",
        ])
    }

    @Test func missingKeysAreAllReported() {
        let (_, diags) = ConfigFixture.parseCampaign("id: Bad_ID\nstatus: paused\n")
        #expect(ConfigFixture.brief(diags) == [
            "1:1: campaign: missing required key 'name'",
            "1:1: campaign: missing required key 'audience'",
            "1:1: campaign: missing required key 'trigger'",
            "1:1: campaign: missing required key 'message'",
            "1:5: id: 'Bad_ID' is not a valid name; use [a-z0-9][a-z0-9-]*",
        ])
    }

    @Test func templateFileErrorsPointIntoTheTemplateFile() throws {
        let body = "trigger: { api: true }\nmessage:\n  channel: email\n  email:\n    subject: Hi\n    text: t.txt\n"
        let (c, diags) = ConfigFixture.parseCampaign(campaign(body), templates: ["t.txt": "Hello\n  {{ frist_name }}\n"])
        #expect(c == nil)
        let d = try #require(diags.first)
        #expect(diags.count == 1)
        #expect(d.location?.file.hasSuffix("/templates/t.txt") == true)
        #expect(d.location?.line == 2 && d.location?.column == 3)
        #expect(d.length == "{{ frist_name }}".count)
        #expect(d.sourceLine == "  {{ frist_name }}")
        #expect(d.message.hasPrefix("message.email.text: unknown template field 'frist_name'"))
        #expect(d.suggestion == "did you mean 'first_name'?")
    }

    @Test func webhookBodyKeepsTypesAndTemplates() throws {
        let body = """
            trigger: { event: cart_abandoned, delay: 1h }
            message:
              channel: webhook
              webhook:
                endpoint: push-gateway
                body: { user: "{{user_id}}", n: 2, ok: true, tags: [a, "{{country}}"] }
            """
        let (c, diags) = ConfigFixture.parseCampaign(campaign(body))
        #expect(diags.isEmpty, "\(diags)")
        guard case .object(let fields)? = c?.message.webhook?.body else {
            Issue.record("no body")
            return
        }
        #expect(fields.map(\.key) == ["user", "n", "ok", "tags"])
        #expect(fields[1].value == .number(2) && fields[2].value == .bool(true))
        guard case .template(let t) = fields[0].value else {
            Issue.record("not a template")
            return
        }
        #expect(t.variables == ["user_id"])
    }
}

@Suite("Config: template files")
struct ConfigTemplateFileTests {
    @Test func invalidUTF8InATemplateFileIsLocated() throws {
        let (config, dir) = ConfigFixture.config()
        try Data(Array("Hi\nthere \u{00}".utf8).dropLast() + [0xE2, 0x28]).write(
            to: dir.appendingPathComponent("templates/bad.txt"))
        let body = "trigger: { api: true }\nmessage:\n  channel: email\n  email:\n    subject: Hi\n    text: bad.txt\n"
        let yaml = "id: c1\nname: C\naudience:\n  segment: lifecycle == \"active\"\n" + body
        let (c, diags) = CampaignFile.parse(yaml: yaml, file: "c.yaml", config: config)
        #expect(c == nil)
        #expect(diags.count == 1)
        #expect(diags.first?.location?.file.hasSuffix("templates/bad.txt") == true)
        #expect(diags.first?.location?.line == 2 && diags.first?.location?.column == 7)
        #expect(diags.first?.message == "the file is not valid UTF-8 (byte 0xE2)")
    }
}
