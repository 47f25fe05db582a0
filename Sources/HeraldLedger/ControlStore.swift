import HeraldCore

/// The operators' switches on campaigns and journeys (pause, rollout halt), kept in the store so that every
/// daemon on it obeys them (docs/operations.md). Each change is also appended to a history.
public protocol ControlStore: Sendable {
    /// Turns `kind` on or off for `subject` (a campaign or journey id) at `at`, saying who and why.
    func setControl(subject: String, kind: CampaignControls.Kind, on: Bool, by: String, reason: String?, at: Int64)
        async throws
    /// The switches that are on now.
    func controls() async throws -> CampaignControls
}

extension CampaignControls {
    /// Adds a stored switch that is on.
    public mutating func add(subject: String, kind: String, at: Int64, by: String, reason: String?) {
        let note = Note(at: at, by: by, reason: reason)
        switch Kind(rawValue: kind) {
        case .paused: paused[subject] = note
        case .rolloutHalted: haltedRollouts[subject] = note
        case nil: break  // written by a newer Herald
        }
    }
}
