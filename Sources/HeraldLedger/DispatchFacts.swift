import HeraldCore

/// What the dispatcher rechecks for one batch of claimed rows, read in one transaction.
public struct DispatchFacts: Sendable {
    /// Profiles by user id (absent: the user was deleted).
    public var profiles: [String: UserProfile]
    /// Consent by user id (absent: opted in).
    public var consent: [String: ConsentState]
    /// Suppression lists by address or user id.
    public var suppressions: [String: [String]]
    /// Event times (epoch seconds) by user id, then event name, for the names asked for.
    public var events: [String: [String: [Int64]]]

    /// Facts (public so that every store, SQLite or PostgreSQL, can build them).
    public init(
        profiles: [String: UserProfile], consent: [String: ConsentState], suppressions: [String: [String]],
        events: [String: [String: [Int64]]]
    ) {
        self.profiles = profiles
        self.consent = consent
        self.suppressions = suppressions
        self.events = events
    }
}
