import GRDB
import HeraldCore
import HeraldLedger

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
                consent[user, default: ConsentState()].optOut(kind: r[1], key: r[2])
            }
            var suppressions: [String: [String]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT address, list FROM suppressions ORDER BY list")
            while let r = try rows.next() { suppressions[r[0], default: []].append(r[1]) }
            return (consent, suppressions)
        }
    }
}
