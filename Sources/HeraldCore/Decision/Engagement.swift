/// A user's engagement, measured from the ledger and nothing else (docs/segments.md, "Engagement").
///
/// Of the messages sent to the user in the 90 days up to `now` — rows the provider accepted (`sent_at` in
/// `[now − 90d, now]`) whose status is still `sent` or `delivered`, or which were opened or clicked whatever
/// their status — `engaged` counts those opened or clicked at or before `now`, or converted: the campaign's
/// `conversion` event happened from `sent_at` to `sent_at + within`, and at or before `now`. A user with no
/// such message has no `Engagement` (the segment language's null). The segment function `engagement()`,
/// `herald users show`, `herald why` and the adaptive caps all read `ratio`.
public struct Engagement: Sendable, Hashable {
    /// How far back sends count, seconds (90 days); the edge is closed: a send exactly 90 days old counts.
    public static let window: Int64 = 90 * 86_400

    /// Messages sent in the window.
    public var sent: Int
    /// Of those, how many were opened, clicked or converted.
    public var engaged: Int

    /// A measurement; `sent` must be at least 1 and at least `engaged`.
    public init(sent: Int, engaged: Int) {
        self.sent = sent
        self.engaged = engaged
    }

    /// `engaged / sent`, in [0, 1].
    public var ratio: Double { sent > 0 ? Double(engaged) / Double(sent) : .nan }

    /// E.g. `0.40 (2 of 5 messages sent in the last 90 days were opened, clicked or converted)`.
    public var summary: String {
        let two = (ratio * 100).rounded() / 100
        let text = String(Int(two)) + "." + Self.pad(Int((two * 100).rounded()) % 100)
        return "\(text) (\(engaged) of \(sent) message\(sent == 1 ? "" : "s") sent in the last 90 days "
            + "\(sent == 1 ? "was" : "were") opened, clicked or converted)"
    }

    /// What `users show` and `why` print for a user with no send in the window.
    public static let noSends = "- (no message sent in the last 90 days)"

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}

extension Campaign {
    /// The conversion goals of `campaigns` by campaign id (the first file wins a duplicated id): what a
    /// conversion is for each campaign's ledger rows when engagement is measured.
    public static func conversionGoals(_ campaigns: [Campaign]) -> [String: Conversion] {
        Dictionary(
            campaigns.compactMap { c in c.conversion.map { (c.id, $0) } }, uniquingKeysWith: { a, _ in a })
    }
}
