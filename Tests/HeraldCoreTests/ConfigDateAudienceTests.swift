import Foundation
import Testing

@testable import HeraldCore

/// Warnings for birthday audiences that could be greeted on the wrong local date, or not at all
/// (docs/campaigns.md, "Local-date sends").
@Suite("Config: date-based audiences")
struct ConfigDateAudienceTests {
    static func birthday(_ sendTime: String) -> String {
        """
        id: birthday
        name: Birthday
        audience:
          segment: is_birthday()
        trigger:
          cron: "0 9 * * *"
          tz: Europe/Berlin
        send_time:
          \(sendTime)
        message:
          channel: sms
          sms:
            text: "Happy birthday"
        """
    }

    @Test func aDailyRunNeedsAWindowAsLongAsItsLongestDay() throws {
        let (campaign, diags) = ConfigFixture.parseCampaign(
            Self.birthday("strategy: local_time\n  local_time: \"09:00\"\n  within: 24h"))
        #expect(campaign != nil)
        #expect(diags.map(\.severity) == [.warning])
        #expect(
            ConfigFixture.brief(diags) == [
                "11:11: send_time.within (1d) is shorter than the longest gap between two runs of this cron (1d1h): "
                    + "users whose local send time falls in the gap are never greeted; use within: 1d1h"
            ])
        let (_, none) = ConfigFixture.parseCampaign(
            Self.birthday("strategy: local_time\n  local_time: \"09:00\"\n  within: 25h"))
        #expect(none.isEmpty, "\(none)")
    }

    @Test func aBirthdayAudienceOutsideLocalTimeIsWarned() throws {
        let (campaign, diags) = ConfigFixture.parseCampaign(Self.birthday("strategy: immediate\n  within: 24h"))
        #expect(campaign != nil)
        #expect(diags.map(\.severity) == [.warning])
        #expect(diags.first?.message.hasPrefix("is_birthday() is tested at planning time with strategy immediate") == true)
        #expect(diags.first?.location?.line == 3)
    }
}
