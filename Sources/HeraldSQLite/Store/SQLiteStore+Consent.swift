import GRDB
import HeraldCore
import HeraldLedger

extension Preferences {
    /// The pipeline's view of these preferences.
    public var consentState: ConsentState {
        ConsentState(
            global: globalOptOut, channels: Set(channels.filter(\.value).keys),
            topics: Set(topics.filter(\.value).keys))
    }
}

extension SQLiteStore {
    /// Every user's opt-outs and every suppression entry, in two reads (planning never queries per user).
    /// Users who never opted out are absent (opted in); suppressions map an address or user id to its lists.
    public func consentBook() async throws -> (
        consent: [String: ConsentState], suppressions: [String: [String]]
    ) {
        try await pool.read { db in
            var consent: [String: ConsentState] = [:]
            let prefs = try Row.fetchCursor(
                db, sql: "SELECT user_id, kind, key FROM preferences WHERE opted_out = 1")
            while let r = try prefs.next() {
                let user: String = r[0]
                let kind: String = r[1]
                let key: String = r[2]
                var c = consent[user] ?? ConsentState()
                switch kind {
                case "global": c.global = true
                case "channel": c.channels.insert(key)
                case "topic": c.topics.insert(key)
                default: continue
                }
                consent[user] = c
            }
            var suppressions: [String: [String]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT address, list FROM suppressions ORDER BY list")
            while let r = try rows.next() { suppressions[r[0], default: []].append(r[1]) }
            return (consent, suppressions)
        }
    }
}
