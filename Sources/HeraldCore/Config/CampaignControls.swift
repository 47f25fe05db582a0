/// Switches an operator flips on a running campaign or journey without editing its file (docs/operations.md):
/// pause/resume, and halting a staged rollout. They live in the store, so every daemon on it obeys them; each
/// daemon reads them every scheduler tick and lays them over the loaded book.
public struct CampaignControls: Sendable, Hashable {
    /// Who flipped a switch, when and why.
    public struct Note: Sendable, Hashable {
        /// Epoch seconds.
        public var at: Int64
        /// `cli`, `console`, `guardrail`, … .
        public var by: String
        /// Free text (a guardrail's breach).
        public var reason: String?

        /// A note.
        public init(at: Int64, by: String, reason: String? = nil) {
            self.at = at
            self.by = by
            self.reason = reason
        }
    }

    /// Campaigns and journeys paused by an operator, by id.
    public var paused: [String: Note]
    /// Campaigns whose rollout is halted, by id.
    public var haltedRollouts: [String: Note]

    /// Controls.
    public init(paused: [String: Note] = [:], haltedRollouts: [String: Note] = [:]) {
        self.paused = paused
        self.haltedRollouts = haltedRollouts
    }

    /// The kinds of switch, as stored.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The campaign or journey is paused.
        case paused
        /// The campaign's rollout is halted.
        case rolloutHalted = "rollout_halted"
    }
}

extension CampaignBook {
    /// The book with `controls` laid over it: an active campaign or journey that is paused in the store runs as
    /// `paused` (a file's own `paused`, `draft` or `stopped` is never made active by a control).
    public func applying(_ controls: CampaignControls) -> CampaignBook {
        guard !controls.paused.isEmpty else {
            return CampaignBook(configPath: configPath, config: config, campaigns: campaigns, journeys: journeys,
                                controls: controls)
        }
        let campaigns = self.campaigns.map { c -> Campaign in
            guard c.status == .active, controls.paused[c.id] != nil else { return c }
            var paused = c
            paused.status = .paused
            return paused
        }
        let journeys = self.journeys.map { j -> JourneyDefinition in
            guard j.status == .active, controls.paused[j.id] != nil else { return j }
            var paused = j
            paused.status = .paused
            return paused
        }
        return CampaignBook(configPath: configPath, config: config, campaigns: campaigns, journeys: journeys,
                            controls: controls)
    }
}
