/// A phone number as an SMS gateway reports it (`+1 555…`, `1555…`, `001555…`), matched against the numbers
/// the store holds. One rule for both stores and the API.
public enum GatewayNumber {
    /// The stored forms a gateway's sender number may match: as given, and its `+digits` form.
    public static func storedForms(_ number: String) -> [String] {
        guard !number.isEmpty else { return [] }
        guard let e164 = e164(number) else { return [number] }
        return Array(Set([number, e164])).sorted()
    }

    /// `+digits` for a number as gateways report it; nil when it is not a plain number (an alphanumeric
    /// sender, say).
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
