import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteStore {
    /// The ids of every user whose phone is `number`, in E.164 (`+…`) or as a gateway reports it
    /// (digits without `+`, or with an international `00` prefix), in id order.
    ///
    /// Inbound SMS keywords apply to every profile sharing the number.
    public func usersWithPhone(_ number: String) async throws -> [String] {
        let candidates = GatewayNumber.storedForms(number)
        guard !candidates.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: candidates.count).joined(separator: ",")
        return try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM users WHERE phone IN (\(marks)) ORDER BY id",
                arguments: StatementArguments(candidates))
        }
    }
}

extension SQLiteStore: HeraldAudience {}
