import Foundation
import HeraldCore
import HeraldLedger

/// The waves of a winner test or a staged rollout as `herald stats` prints them under the funnel: each wave
/// with its users, the decision and its reason, the stages released and any halt (docs/experiments.md).
enum ExperimentStatus {
    /// Lines for `campaign`, or none when it has no winner test and no rollout.
    static func lines(_ campaign: Campaign, ledger: any DispatchLedger) async throws -> [String] {
        guard campaign.rollout != nil || campaign.experiment?.winner != nil else { return [] }
        let records = try await ledger.occurrences(campaign: campaign.id, prefix: "")
            .filter { $0.occurrence != OccurrenceRecord.activationID && !$0.occurrence.contains("/") }
        let controls = try await ledger.controls()
        let utc = { TimestampParser.formatUTC(seconds: $0) }
        var table = TextTable(header: ["wave", "users", "at", "what"])
        for r in records {
            var what = "planned"
            if r.occurrence.hasSuffix("~rest") {
                if let detail = r.detail, let d = try? JSONDecoder().decode(WinnerDecision.self, from: Data(detail.utf8)) {
                    what = (d.winner.map { "winner \($0)" } ?? "no winner: nothing more sent") + " — " + d.reason
                }
            } else if let k = r.occurrence.range(of: "~stage").map({ r.occurrence[$0.upperBound...] }) {
                what = "rollout stage \(k)"
            } else if r.occurrence.hasPrefix("rollout-stage-") {
                what = "released " + (r.detail ?? "")
            } else if case .test(let plan)? = campaign.experiment?.winner {
                what = "winner test (\(String(format: "%g", plan.testShare * 100))% of the audience, decides after "
                    + "\(plan.after / 3600)h on \(plan.metric.rawValue))"
            } else if campaign.rollout != nil {
                what = "rollout stage 1"
            }
            table.add([r.occurrence, String(r.decisions), utc(r.start), what])
        }
        var out = ["", "experiment and rollout waves (each user in one wave)"] + table.render()
        if let halt = controls.haltedRollouts[campaign.id] {
            out.append("ROLLOUT HALTED by \(halt.by) at \(utc(halt.at))" + (halt.reason.map { ": \($0)" } ?? "")
                       + " — `herald rollout resume \(campaign.id)` lets it go on")
        }
        if let pause = controls.paused[campaign.id] {
            out.append("PAUSED by \(pause.by) at \(utc(pause.at))" + (pause.reason.map { ": \($0)" } ?? ""))
        }
        return out
    }
}
