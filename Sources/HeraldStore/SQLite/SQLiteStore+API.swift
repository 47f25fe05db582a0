import GRDB
import HeraldCore

extension SQLiteStore {
    /// The ids of every user whose phone is `number`, in E.164 (`+…`) or as a gateway reports it
    /// (digits without `+`, or with an international `00` prefix), in id order.
    ///
    /// Inbound SMS keywords apply to every profile sharing the number.
    public func usersWithPhone(_ number: String) async throws -> [String] {
        let candidates = Self.phoneForms(number)
        guard !candidates.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: candidates.count).joined(separator: ",")
        return try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM users WHERE phone IN (\(marks)) ORDER BY id",
                arguments: StatementArguments(candidates))
        }
    }

    /// The stored forms a gateway's sender number may match: as given, and its `+digits` form (both stores).
    public static func phoneForms(_ number: String) -> [String] {
        guard !number.isEmpty else { return [] }
        guard let e164 = e164(number) else { return [number] }
        return Array(Set([number, e164])).sorted()
    }

    /// `+digits` for a number as gateways report it (`+1 555…`, `1555…`, `001555…`); nil when it is
    /// not a plain number (an alphanumeric sender, say).
    public static func e164(_ number: String) -> String? {
        let trimmed = number.filter { !$0.isWhitespace && $0 != "-" && $0 != "(" && $0 != ")" }
        var digits = trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed
        if digits.hasPrefix("00") { digits = String(digits.dropFirst(2)) }
        guard (6...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return "+" + digits
    }
}

extension SQLiteStore: HeraldAudience {}
