import Foundation

/// The ledger counts of a rollout's sends so far, over every released stage.
public struct RolloutCounts: Sendable, Hashable, Codable {
    /// Messages handed to a provider: the denominator of the failure rate.
    public var attempted: Int
    /// Messages the provider accepted: the denominator of the unsubscribe and complaint rates.
    public var sent: Int
    /// Attempts that failed permanently.
    public var failed: Int
    /// Attempts whose retries were exhausted.
    public var dead: Int
    /// Attempts the provider bounced.
    public var bounced: Int
    /// Recipients who unsubscribed from a message of the campaign.
    public var unsubscribed: Int
    /// Spam complaints, where the provider reports them (0 otherwise).
    public var complained: Int

    /// Counts; any left out are 0.
    public init(
        attempted: Int = 0, sent: Int = 0, failed: Int = 0, dead: Int = 0, bounced: Int = 0,
        unsubscribed: Int = 0, complained: Int = 0
    ) {
        self.attempted = attempted
        self.sent = sent
        self.failed = failed
        self.dead = dead
        self.bounced = bounced
        self.unsubscribed = unsubscribed
        self.complained = complained
    }
}

/// `halt_if`: limits on a rollout's rates; any breach halts the rollout (docs/experiments.md).
///
/// A rate breaches its limit when it is strictly above it. A rate with a zero denominator is not
/// measured and never breaches; neither does one whose denominator is below `minimumSample`, so that one
/// bounce among the very first sends does not halt a rollout on its own (0 turns this off).
public struct RolloutGuardrails: Sendable, Hashable, Codable {
    /// A guardrail, named as in the campaign file.
    public enum Guardrail: String, Sendable, Hashable, Codable, CaseIterable {
        /// unsubscribed / sent.
        case unsubscribeRate = "unsubscribe_rate"
        /// (failed + dead + bounced) / attempted.
        case failureRate = "failure_rate"
        /// complained / sent.
        case complaintRate = "complaint_rate"
    }

    /// One limit exceeded.
    public struct Breach: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Which guardrail.
        public var guardrail: Guardrail
        /// The observed rate, a fraction.
        public var rate: Double
        /// The limit, a fraction.
        public var limit: Double
        /// The rate's numerator.
        public var count: Int
        /// The rate's denominator.
        public var of: Int

        /// "failure_rate 6.2% (31 of 500 attempted) > 5%".
        public var description: String {
            let noun = guardrail == .failureRate ? "attempted" : "sent"
            return
                "\(guardrail.rawValue) \(Self.percent(rate)) (\(count) of \(of) \(noun)) > \(Self.percent(limit))"
        }

        static func percent(_ fraction: Double) -> String {
            String(format: "%.3g%%", fraction * 100)
        }
    }

    /// The default smallest denominator a guardrail needs before it may fire.
    public static let defaultMinimumSample = 20

    /// The unsubscribe limit, a fraction (0.005 for 0.5 %); nil when not set.
    public var unsubscribeRate: Double?
    /// The failure limit, a fraction; nil when not set.
    public var failureRate: Double?
    /// The complaint limit, a fraction; nil when not set.
    public var complaintRate: Double?
    /// The smallest denominator a rate needs before it can breach.
    public var minimumSample: Int

    /// Guardrails with limits as fractions.
    public init(
        unsubscribeRate: Double? = nil, failureRate: Double? = nil, complaintRate: Double? = nil,
        minimumSample: Int = RolloutGuardrails.defaultMinimumSample
    ) {
        self.unsubscribeRate = unsubscribeRate
        self.failureRate = failureRate
        self.complaintRate = complaintRate
        self.minimumSample = minimumSample
    }

    /// Every limit the counts exceed, in the order unsubscribe, failure, complaint.
    public func breaches(_ counts: RolloutCounts) -> [Breach] {
        let checks: [(Guardrail, Double?, Int, Int)] = [
            (.unsubscribeRate, unsubscribeRate, counts.unsubscribed, counts.sent),
            (.failureRate, failureRate, counts.failed + counts.dead + counts.bounced, counts.attempted),
            (.complaintRate, complaintRate, counts.complained, counts.sent),
        ]
        return checks.compactMap { guardrail, limit, count, of in
            guard let limit, of > 0, of >= minimumSample else { return nil }
            let rate = Double(count) / Double(of)
            guard rate > limit else { return nil }
            return Breach(guardrail: guardrail, rate: rate, limit: limit, count: count, of: of)
        }
    }

    /// The reason to halt, every breach on one line; nil when the rollout may go on.
    public func evaluate(_ counts: RolloutCounts) -> String? {
        let found = breaches(counts)
        return found.isEmpty ? nil : found.map(\.description).joined(separator: "; ")
    }
}
