import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging

/// A staged release as the campaign page shows it. The rollout engine fills it in; until a campaign has one,
/// the page says "no rollout" (docs/console.md, "Rollouts").
public struct RolloutView: Sendable, Hashable {
    /// One stage: the share of the audience released and where it stands.
    public struct Stage: Sendable, Hashable {
        /// Percent of the audience released at this stage.
        public var percent: Double
        /// `done`, `current`, `waiting`.
        public var state: String
        /// When the stage started, epoch seconds.
        public var startedAt: Int64?

        /// A stage.
        public init(percent: Double, state: String, startedAt: Int64?) {
            self.percent = percent
            self.state = state
            self.startedAt = startedAt
        }
    }

    /// The stages in order.
    public var stages: [Stage]
    /// Why the rollout is halted (a guardrail or an operator), nil while it runs.
    public var halt: String?

    /// A rollout.
    public init(stages: [Stage], halt: String?) {
        self.stages = stages
        self.halt = halt
    }
}

/// Everything the console reads: the same store, ledger and campaign book as the daemon, the API token it
/// signs in with, and read-only views of the dispatcher's provider gates.
public struct ConsoleDependencies: Sendable {
    /// The audience store (profiles, preferences, devices).
    public var store: any HeraldAudience
    /// The ledger (funnels, sends, journeys, the change feed).
    public var ledger: any DispatchLedger
    /// The campaign book in force (a reload swaps it).
    public var book: @Sendable () -> CampaignBook
    /// The API token; nil: nobody can sign in.
    public var token: String?
    /// True when the cookie must be `Secure` (`api.public_url` is https).
    public var secureCookie: Bool
    /// Each provider gate's current state, read-only.
    public var gates: @Sendable () -> [(key: GateKey, gate: ProviderGate)]
    /// A campaign's staged release, nil when it has none.
    public var rollout: @Sendable (String) async throws -> RolloutView?
    /// Epoch seconds.
    public var clock: @Sendable () -> Int64
    /// For refusals and errors; never given a token or a session id.
    public var logger: Logger

    /// Dependencies; `secureCookie` follows `publicURL`'s scheme.
    public init(
        store: any HeraldAudience, ledger: any DispatchLedger, book: @escaping @Sendable () -> CampaignBook,
        token: String?, publicURL: String?,
        gates: @escaping @Sendable () -> [(key: GateKey, gate: ProviderGate)] = { [] },
        rollout: @escaping @Sendable (String) async throws -> RolloutView? = { _ in nil },
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger
    ) {
        self.store = store
        self.ledger = ledger
        self.book = book
        self.token = token
        self.secureCookie = publicURL?.lowercased().hasPrefix("https://") ?? false
        self.gates = gates
        self.rollout = rollout
        self.clock = clock
        self.logger = logger
    }
}
