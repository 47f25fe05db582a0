import HeraldCore

extension LedgerStore {
    /// The daemon's sink for the one pipeline: records a planning pass's decisions (sends as `scheduled`,
    /// the rest as `suppressed`/`holdout` with their reasons), keyed so that re-planning inserts nothing twice.
    /// Returns how many rows were new.
    @discardableResult
    public func record(_ decisions: [Decision], campaign: Campaign, at: Int64, step: Int = 1) async throws
        -> Int
    {
        try await record(decisions.map { LedgerEntry(decision: $0, campaign: campaign, at: at, step: step) })
    }
}
