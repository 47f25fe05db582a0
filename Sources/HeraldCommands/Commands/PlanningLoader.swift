import Foundation
import HeraldCore
import HeraldLedger

/// Loads what a planning pass reads, in bulk and read-only: dry-run and why share it (and the one pipeline).
struct PlanningLoader {
    let context: HeraldContext

    /// The campaign with this id, or a reported failure with a "did you mean".
    func campaign(_ id: String) throws -> Campaign {
        let (all, diagnostics) = context.campaigns()
        guard let found = all.first(where: { $0.id == id }) else {
            report(diagnostics)
            let hint = NearMiss.didYouMean(id, among: all.map(\.id)).map { " (\($0))" } ?? ""
            Console.err("error: no campaign '\(id)' in \(context.config.campaignsDirectory)\(hint)")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        return found
    }

    /// The occurrence planned and the planning instant: a one-shot schedule plans its own instant, anything
    /// else an occurrence triggered at `--at` (default now).
    static func occurrence(of campaign: Campaign, at: String?) throws -> (Occurrence, now: Int64) {
        if case .schedule(let start) = campaign.trigger {
            let now = at == nil ? start : try parseAt(at)
            return (Occurrence(start: start), now)
        }
        let now = try parseAt(at)
        if case .cron = campaign.trigger { return (Occurrence.cron(at: now, campaign: campaign), now) }
        return (Occurrence(start: now), now)
    }

    /// A pipeline for `campaign`'s occurrence with the audience, consent and ledger loaded in bulk; writes nothing.
    func pipeline(_ campaign: Campaign, occurrence: Occurrence, now: Int64) async throws -> DecisionPipeline {
        try await pipeline(campaign, occurrence: occurrence, now: now, backend: try await context.openBackend())
    }

    /// `pipeline(_:occurrence:now:)` over a store and ledger already open.
    func pipeline(
        _ campaign: Campaign, occurrence: Occurrence, now: Int64,
        backend: (store: any HeraldAudience, ledger: any DispatchLedger)
    ) async throws -> DecisionPipeline {
        let (store, ledger) = backend
        let inputs = try await PlanningSource.inputs(
            store: store, ledger: ledger, config: context.config, campaigns: [campaign], now: now,
            goals: Campaign.conversionGoals(context.campaigns().campaigns))
        return DecisionPipeline(campaign: campaign, occurrence: occurrence, inputs: inputs)
    }
}
