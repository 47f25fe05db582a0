import Foundation
import Yams

extension CampaignParser {
    /// Warnings for a date-based audience (`is_birthday()`) whose sends could land on the wrong local date or
    /// miss some dates altogether (docs/campaigns.md, "Local-date sends").
    func checkDateAudience(
        _ m: YMap, audience: Campaign.Audience?, trigger: Campaign.Trigger?, sendTime: Campaign.SendTime?
    ) {
        guard let audience, let sendTime,
            audience.segment.testsBirthday || audience.exclude?.testsBirthday == true
        else { return }
        guard sendTime.strategy == .localTime else {
            y.report(
                "is_birthday() is tested at planning time with strategy \(sendTime.strategy.rawValue), so far-away "
                    + "time zones can be greeted on the wrong day; use strategy local_time, which tests each "
                    + "user's local date of the send",
                at: m.keyNode("audience").map { y.location($0.mark) }, severity: .warning)
            return
        }
        guard case .cron(let cron, let zoneName)? = trigger, let zone = TimeZone(identifier: zoneName) else { return }
        let gap = Self.longestGap(cron, in: zone)
        if gap > sendTime.within {
            var node = m["send_time"]
            if case .mapping(let st)? = node, let within = st.first(where: { $0.key.scalar?.string == "within" }) {
                node = within.value
            }
            y.report(
                "send_time.within (\(DurationSpec.format(sendTime.within))) is shorter than the longest gap between "
                    + "two runs of this cron (\(DurationSpec.format(gap))): users whose local send time falls in "
                    + "the gap are never greeted; use within: \(DurationSpec.format(gap))",
                at: node.map { y.location($0.mark) }, severity: .warning)
        }
    }

    /// The longest time between two consecutive fire times over a year that has both DST changes.
    static func longestGap(_ cron: CronExpression, in zone: TimeZone) -> Int64 {
        let from: Int64 = 1_767_225_600  // 2026-01-01T00:00:00Z: a fixed year, so validation never depends on today
        var longest: Int64 = 0
        var t = cron.next(after: from, in: zone)
        var fires = 0
        while let a = t, a < from + 366 * 86_400, fires < 2_000 {
            guard let b = cron.next(after: a, in: zone) else { break }
            longest = max(longest, b - a)
            t = b
            fires += 1
        }
        return longest
    }
}
