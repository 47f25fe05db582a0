import Foundation
import Testing

@testable import HeraldCore

/// Fixtures for the Journey tests: a config that declares the example's topic and templates.
enum JourneyFixture {
    static let configYAML = """
        store: { sqlite: var/test.db }
        templates: templates
        attributes:
          first_name: string
          country: string
        topics: [onboarding, promotions]
        segments:
          vip: country == "CN"
        policy:
          default_timezone: UTC
        channels:
          webhook:
            endpoints:
              push-gateway: { rate: 10/s }
        """

    /// The config, with welcome.txt and coupon.txt in its templates folder, and the folder.
    static func config() -> (HeraldConfig, URL) {
        let dir = ConfigFixture.tempDir()
        ConfigFixture.write("Welcome, {{first_name|friend}}!\n", to: "templates/welcome.txt", in: dir)
        ConfigFixture.write("Here is 10% off: {{unsubscribe_url}}\n", to: "templates/coupon.txt", in: dir)
        ConfigFixture.write("Three tips, {{first_name|friend}}.\n", to: "templates/tips.txt", in: dir)
        let (config, diags) = HeraldConfig.parse(
            yaml: configYAML, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        precondition(config != nil, "fixture config invalid: \(diags)")
        return (config!, dir)
    }

    /// Writes `yaml` as `journeys/NAME` in a fresh folder and loads it as a campaign file.
    static func load(_ yaml: String, name: String = "j.yaml") -> (CampaignFileContent?, [Diagnostic]) {
        let (config, dir) = config()
        let url = ConfigFixture.write(yaml, to: "campaigns/\(name)", in: dir)
        return CampaignFile.loadAny(path: url.path, config: config)
    }

    /// Parses `yaml` (file name `j.yaml`) as a campaign file.
    static func parse(_ yaml: String) -> (CampaignFileContent?, [Diagnostic]) {
        let (config, _) = config()
        return CampaignFile.parseAny(yaml: yaml, file: "j.yaml", config: config)
    }

    /// The journey of `yaml`, failing the test with its diagnostics when there is none.
    static func journey(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation)
        -> JourneyDefinition?
    {
        let (content, diags) = parse(yaml)
        guard case .journey(let j)? = content else {
            Issue.record("expected a journey: \(diags.map(\.description))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(diags.isEmpty, "\(diags.map(\.description))", sourceLocation: sourceLocation)
        return j
    }

    /// `LINE:COL: message` of each error.
    static func errors(_ yaml: String) -> [String] {
        ConfigFixture.brief(parse(yaml).1.filter(\.isError))
    }
}

/// The journey example of docs/journeys.md, verbatim.
let specJourneyExample = """
    id: onboarding
    name: Onboarding series
    status: active                 # active | paused (timers hold) | draft | stopped (every instance ends: journey_stopped)
    topic: onboarding
    audience: { segment: lifecycle == "new" }
    trigger: { event: signed_up, delay: 10m }    # any trigger of §3
    entry:
      re_entry: never              # never | always | after: 30d — a user is in at most one instance at a time
    exit_when:
      - event: purchase            # the moment such an event is stored, the instance ends; its pending sends are cancelled
      - segment: lifecycle == "churned"   # checked whenever the user reaches a step
    conversion: { event: purchase, within: 14d }
    steps:
      - id: welcome                # [a-z0-9][a-z0-9-]*, unique in the file, stable: part of ledger keys and stats
        message: { channel: email, email: { subject: "Welcome, {{first_name|friend}}", text: welcome.txt } }
        send_time: { strategy: immediate, within: 24h }   # as §5.2, counted from the moment the step is reached
      - id: day-1
        wait: 1d                   # or wait: { until: "09:00", days: [mon, tue, wed, thu, fri] } — next such local time
      - id: tips
        message: { channel: push, push: { title: "3 tips for your first order", body: "…" } }
        send_time: { strategy: best_time, within: 24h }
      - id: await-purchase
        wait_for: { event: purchase, within: 2d }   # optional where: EXPR over the event's properties
        on_event: exit             # default: the next step
        on_timeout: pick-channel
      - id: pick-channel
        branch:
          - { if: opened("welcome") or clicked("welcome"), goto: coupon-email }
          - { else: coupon-sms }
      - id: coupon-email
        message: { channel: email, email: { subject: "10% off your first order", text: coupon.txt } }
        next: exit                 # default: the following step; the end of the list is exit
      - id: coupon-sms
        message: { channel: sms, sms: { text: "{{first_name|Hi}}: 10% off your first order. Reply STOP to opt out." } }
      - id: control-split          # (illustration) random paths, deterministic per user
        split: [ { percent: 90, goto: coupon-sms }, { percent: 10, goto: exit } ]
    """

/// The example made runnable: `tips` goes by webhook, and the random split comes before `coupon-sms` so that no
/// path loops (lines: `tips` 19–21, `pick-channel` 26–29, `control-split` 33–34).
let runnableJourney = """
    id: onboarding
    name: Onboarding series
    status: active
    topic: onboarding
    audience: { segment: lifecycle == "new" }
    trigger: { event: signed_up, delay: 10m }
    entry:
      re_entry: { after: 30d }
    exit_when:
      - event: purchase
      - segment: lifecycle == "churned"
    conversion: { event: purchase, within: 14d }
    steps:
      - id: welcome
        message: { channel: email, email: { subject: "Welcome, {{first_name|friend}}", text: welcome.txt } }
        send_time: { strategy: immediate, within: 24h }
      - id: day-1
        wait: { until: "09:00", days: [mon, tue, wed, thu, fri] }
      - id: tips
        message: { channel: webhook, webhook: { endpoint: push-gateway, body: { title: "3 tips" } } }
        send_time: { strategy: best_time, within: 24h }
      - id: await-purchase
        wait_for: { event: purchase, within: 2d, where: amount >= 10 }
        on_event: exit
        on_timeout: pick-channel
      - id: pick-channel
        branch:
          - { if: opened("welcome") or clicked("welcome"), goto: coupon-email }
          - { else: control-split }
      - id: coupon-email
        message: { channel: email, email: { subject: "10% off your first order", text: coupon.txt } }
        next: exit
      - id: control-split
        split: [ { percent: 90, goto: coupon-sms }, { percent: 10, goto: exit } ]
      - id: coupon-sms
        message: { channel: sms, sms: { text: "{{first_name|Hi}}: 10% off. Reply STOP to opt out." } }
        on_capped: skip
    """
