import Foundation

/// The dates `is_birthday()` tests in a `local_time` campaign: each recipient's local dates of the sends the
/// window offers them (one, or two on a 25-hour day), so a date-based audience is chosen for the day the message
/// arrives, not the day (or zone) it is planned in. See docs/campaigns.md, "Local-date sends".
public struct LocalSendDay: Sendable, Hashable {
    /// The campaign's local send time.
    public var time: ClockTime
    /// The occurrence's window, as the send time is picked in it.
    public var picker: SendTimePicker

    /// The send day of `time` in `picker`'s window.
    public init(time: ClockTime, picker: SendTimePicker) {
        self.time = time
        self.picker = picker
    }

    /// The local dates of the sends on `clock`; empty when the window holds no such local time.
    public func dates(on clock: LocalClock) -> [CivilDate] {
        picker.localTimes(time, clock: clock).map { clock.local($0).date }
    }
}

extension Occurrence {
    /// The occurrence of a `cron` campaign firing at `start`. With `local_time` its window ends at the next fire
    /// time at the latest: every local send time then belongs to exactly one occurrence, so a daily campaign
    /// reaches each zone once per local date, also on the 23- and 25-hour days of a DST change.
    public static func cron(at start: Int64, campaign: Campaign) -> Occurrence {
        var o = Occurrence(start: start)
        if campaign.sendTime.strategy == .localTime, case .cron(let expression, let zone) = campaign.trigger,
            let next = expression.next(after: start, in: TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!)
        {
            o.end = next
        }
        return o
    }

    /// The occurrence of an event at `triggeredAt` for a campaign with `delay`: the window starts after the delay;
    /// for `local_time`, whole days of the delay count local dates ("day 1 at 10:00" is the next local morning,
    /// however late in the day the event came), the rest of it is a minimum wait.
    public static func event(triggeredAt: Int64, delay: Int64, id: String) -> Occurrence {
        var o = Occurrence(start: triggeredAt + delay, id: id)
        if delay >= 86_400 { o.notBefore = triggeredAt + delay % 86_400 }
        return o
    }
}

extension DecisionPipeline {
    /// The `local_time` send for `row`: the window's first local send time, or, when the window offers several
    /// and the audience tests `is_birthday()`, the one on the user's birthday.
    func localTimeSend(_ time: ClockTime, row: Int, picker: SendTimePicker, clock: LocalClock) -> Int64? {
        let first = picker.localTimes(time, clock: clock, limit: 2)
        let stamp = inputs.snapshot.birthday[row]
        guard first.count > 1, stamp != AudienceSnapshot.nullTime, campaign.audience.segment.testsBirthday else {
            return first.first
        }
        let birthday = CivilDate(epochSeconds: stamp)
        let all = picker.localTimes(time, clock: clock)
        return all.first { DerivedFields.isBirthday(birthday, today: clock.local($0).date) } ?? all.first
    }

    /// The send-time picker of this occurrence (window, planning instant, whole-day delays).
    var sendTimePicker: SendTimePicker {
        SendTimePicker(
            windowStart: occurrence.start, windowEnd: occurrence.windowEnd(within: campaign.sendTime.within),
            now: inputs.now, notBefore: occurrence.notBefore)
    }

    /// The environment the audience is evaluated in: in a `local_time` campaign `is_birthday()` reads each
    /// user's local date of their send.
    var audienceEnvironment: EvaluationEnvironment {
        var env = inputs.environment
        if campaign.sendTime.strategy == .localTime, let time = campaign.sendTime.localTime {
            env.localSendDay = LocalSendDay(time: time, picker: sendTimePicker)
        }
        return env
    }
}
