import HeraldCore

/// A change to one user's profile: fields present here are written, absent ones left as stored.
public struct UserUpsert: Sendable, Hashable {
    /// The user's id.
    public var id: String
    /// Reserved fields to set; `.some(nil)` clears a field.
    public var email: String??
    /// See `email`.
    public var phone: String??
    /// See `email`.
    public var timezone: String??
    /// See `email`.
    public var locale: String??
    /// Epoch seconds; see `email`.
    public var createdAt: Int64??
    /// See `email`.
    public var birthday: CivilDate??
    /// Epoch seconds; see `email`.
    public var lastSeenAt: Int64??
    /// Custom attributes to set; `.null` clears one.
    public var attributes: [String: Value]

    /// An upsert that changes nothing but makes sure the user exists.
    public init(id: String) {
        self.id = id
        attributes = [:]
    }
}

/// One event to store.
public struct EventRecord: Sendable, Hashable {
    /// The user it belongs to (created if unknown).
    public var userID: String
    /// The event name, e.g. `purchase`.
    public var name: String
    /// Epoch milliseconds.
    public var timestampMillis: Int64
    /// Properties as canonical JSON text (sorted keys), or nil.
    public var propertiesJSON: String?
    /// Numeric properties, for aggregates (`sum`, `avg`, RFM's `amount`).
    public var numbers: [String: Double]
    /// The sender's message id, used to de-duplicate when given.
    public var messageID: String?

    /// An event.
    public init(
        userID: String, name: String, timestampMillis: Int64, propertiesJSON: String? = nil,
        numbers: [String: Double] = [:], messageID: String? = nil
    ) {
        self.userID = userID
        self.name = name
        self.timestampMillis = timestampMillis
        self.propertiesJSON = propertiesJSON
        self.numbers = numbers
        self.messageID = messageID
    }
}

extension EventRecord {
    /// The time of the earliest event of each user in `batch`, epoch seconds: the `created_at` of a user an
    /// event creates.
    public static func earliestByUser(_ batch: [EventRecord]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        var lastUser = ""
        var lastMillis = Int64.max
        // Files grouped by user touch the dictionary once per run of a user.
        for e in batch {
            if e.userID != lastUser {
                if !lastUser.isEmpty { out[lastUser] = min(out[lastUser] ?? .max, secondsOf(millis: lastMillis)) }
                lastUser = e.userID
                lastMillis = e.timestampMillis
            } else {
                lastMillis = min(lastMillis, e.timestampMillis)
            }
        }
        if !lastUser.isEmpty { out[lastUser] = min(out[lastUser] ?? .max, secondsOf(millis: lastMillis)) }
        return out
    }
}

/// What one batch write did.
public struct BatchResult: Sendable, Hashable {
    /// Rows newly written.
    public var inserted: Int
    /// Rows already present with the same content (idempotent re-import, duplicate event).
    public var unchanged: Int
    /// Existing rows whose stored content changed (users merged with new values).
    public var updated: Int

    /// A result.
    public init(inserted: Int = 0, unchanged: Int = 0, updated: Int = 0) {
        self.inserted = inserted
        self.unchanged = unchanged
        self.updated = updated
    }

    /// The result of writing `ids`, one per row: inserted when in `inserted`, else updated when in `changed`,
    /// else unchanged.
    public static func tally(_ ids: [String], inserted: Set<String>, changed: Set<String>) -> BatchResult {
        var result = BatchResult()
        for id in ids {
            if inserted.contains(id) {
                result.inserted += 1
            } else if changed.contains(id) {
                result.updated += 1
            } else {
                result.unchanged += 1
            }
        }
        return result
    }

    /// The sum of two results.
    public static func + (a: BatchResult, b: BatchResult) -> BatchResult {
        BatchResult(
            inserted: a.inserted + b.inserted, unchanged: a.unchanged + b.unchanged,
            updated: a.updated + b.updated)
    }
}

/// The audience store: profiles, events, preferences, suppression list.
///
/// Async so that a PostgreSQL implementation fits the same shape. Every batch is atomic.
public protocol AudienceStore: Sendable {
    /// Upserts a batch of users in one transaction.
    func upsertUsers(_ batch: [UserUpsert]) async throws -> BatchResult
    /// Inserts a batch of events in one transaction, creating unknown users and de-duplicating.
    func insertEvents(_ batch: [EventRecord]) async throws -> BatchResult
    /// One user's profile, or nil.
    func profile(id: String) async throws -> UserProfile?
    /// One user's facts for single-user evaluation (all events), or nil.
    func facts(id: String) async throws -> UserFacts?
    /// A columnar snapshot of the whole audience holding at least `requirements`.
    func snapshot(_ requirements: SnapshotRequirements) async throws -> AudienceSnapshot
    /// Number of users and events.
    func counts() async throws -> (users: Int, events: Int)

    /// One user's consent preferences (all opted in when nothing was stored).
    func preferences(userID: String) async throws -> Preferences
    /// Records one opt-out or opt-in choice at `at` (epoch seconds).
    func setPreference(userID: String, scope: PreferenceScope, optedOut: Bool, at: Int64) async throws
    /// Adds (or replaces) an address or user id on a suppression list.
    func suppress(_ entry: Suppression) async throws
    /// Removes an address from a suppression list; true when it was there.
    @discardableResult func unsuppress(list: String, address: String) async throws -> Bool
    /// The suppression entries that match any of `addresses` (an email, a phone, a user id), by list name.
    func isSuppressed(_ addresses: [String]) async throws -> [Suppression]
    /// A number that grows with every committed write, from any process sharing the store.
    func changeSequence() async throws -> Int64
    /// The writes committed after sequence number `since`, oldest first (at most `limit`).
    func changes(since: Int64, limit: Int) async throws -> [StoreChange]

    /// Prepares for loading about `estimatedEvents` events at once (e.g. by deferring index
    /// maintenance); true when something was deferred and `endBulkLoad()` must follow.
    func beginBulkLoad(estimatedEvents: Int) async throws -> Bool
    /// Restores what `beginBulkLoad` deferred; returns how many loaded rows turned out to be duplicates
    /// (and were removed).
    func endBulkLoad() async throws -> Int
}

extension AudienceStore {
    /// Defers nothing.
    public func beginBulkLoad(estimatedEvents: Int) async throws -> Bool { false }
    /// Nothing to restore.
    public func endBulkLoad() async throws -> Int { 0 }
}
