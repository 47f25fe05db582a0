import HeraldCore

extension RolloutCounts {
    /// Adds `rows` ledger rows in `status`, `unsubscribed` of them marked by their unsubscribe link: how both
    /// ledgers turn their grouped counts into the guardrails' counts.
    public mutating func add(_ status: LedgerStatus?, rows: Int, unsubscribed: Int) {
        self.unsubscribed += unsubscribed
        switch status {
        case .sent, .delivered: sent += rows; attempted += rows
        case .bounced: bounced += rows; sent += rows; attempted += rows
        case .failed: failed += rows; attempted += rows
        case .dead: dead += rows; attempted += rows
        default: break
        }
    }
}

/// What winner tests and staged rollouts read from and record in the ledger (docs/experiments.md).
public protocol ExperimentLedger: Sendable {
    /// The occurrence records of `campaign` whose id starts with `prefix` ("" for all: waves, stages and
    /// decisions included), oldest first.
    func occurrences(campaign: String, prefix: String) async throws -> [OccurrenceRecord]
    /// Per variant of `campaign`'s occurrences `occurrences` (nil: all of them): sends (rows with a `sent_at`)
    /// and the rows among them that were opened or clicked; the key is the variant id ("" for none).
    func armCounts(campaign: String, occurrences: [String]?, clicks: Bool) async throws -> [String: (sent: Int, hits: Int)]
    /// The variant each of `users` already has in `campaign` (a bandit's arm is fixed once assigned).
    func assignedVariants(campaign: String, users: [String]) async throws -> [String: String]
    /// The counts the rollout guardrails judge, over every row of `campaign`.
    func rolloutCounts(campaign: String) async throws -> RolloutCounts
    /// Marks the row `key` as the one whose unsubscribe link was used; false when unknown or already marked.
    func markUnsubscribed(key: String, at: Int64) async throws -> Bool
}
