import Foundation
import HeraldCore
import HeraldLedger

/// The occurrence rules campaigns and journeys share: when a `schedule` or `cron` trigger is due (and what a
/// downtime missed), and who newly entered an `entered_segment` audience. A journey's id keys its occurrence
/// records and segment members as a campaign's does (the two share one set of ids).
extension Scheduler {
    /// The start of the `schedule` or `cron` occurrence of `id` due at `now` and not yet recorded, if the
    /// `window` seconds from its start are still open. A passed window is recorded `missed` (logged), as are
    /// the earlier `cron` occurrences a downtime skipped; a `cron` counts from the moment it was first seen
    /// active. `done` is the status a taken occurrence is recorded with (`fired` for a journey). Nil for the
    /// other triggers.
    func dueStart(
        _ id: String, _ trigger: Campaign.Trigger, window: Int64, now: Int64, done: OccurrenceStatus = .planned
    ) async throws -> Int64? {
        switch trigger {
        case .schedule(let at):
            guard now >= at else { return nil }
            let o = Occurrence(start: at)
            guard try await ledger.occurrence(campaign: id, id: o.id) == nil else { return nil }
            if at + window > now { return at }
            try await missed(id, o, "the daemon was not running during the whole delivery window", now)
            return nil
        case .cron(let expr, let tz):
            let activated = try await activation(id, now)
            let last = try await ledger.latestOccurrence(campaign: id, statuses: [done, .missed])
            let zone = TimeZone(identifier: tz) ?? TimeZone(identifier: "UTC")!
            var times: [Int64] = []
            var t = expr.next(after: max(activated, last ?? activated), in: zone)
            while let x = t, x <= now, times.count < 10_000 {
                times.append(x)
                t = expr.next(after: x, in: zone)
            }
            guard let latest = times.last else { return nil }
            for skipped in times.dropLast().suffix(100) {
                try await missed(id, Occurrence(start: skipped), "superseded by a later occurrence after downtime", now)
            }
            if latest + window > now { return latest }
            try await missed(id, Occurrence(start: latest), "the daemon was not running during the whole delivery window", now)
            return nil
        case .event, .enteredSegment, .api:
            return nil
        }
    }

    /// Who entered and left the audience of `id` since its last evaluation, given its members `now`; nil the
    /// first time, which records `now`'s members as the baseline (no wave of "entered" on first sight).
    func membershipChange(_ id: String, members current: Set<String>, now: Int64) async throws
        -> (entered: [String], left: [String])?
    {
        if try await ledger.occurrence(campaign: id, id: OccurrenceRecord.activationID) == nil {
            _ = try await ledger.recordOccurrence(
                OccurrenceRecord.activation(campaign: id, at: now, detail: "baseline: \(current.count) members"),
                entries: [], entered: Array(current), left: [], at: now)
            return nil
        }
        let members = try await ledger.members(campaign: id)
        return (Array(current.subtracting(members)), Array(members.subtracting(current)))
    }
}
