/// A user's events counted by local weekday and hour (7×24, Monday first), unweighted: what `herald users
/// show` and the console draw. The slot is the one `best_time` reads (`ActivityProfile.slot`).
public struct ActivityHeatmap: Sendable, Hashable {
    /// counts[weekday 0 = Monday … 6 = Sunday][hour 0…23].
    public var counts: [[Int]] = Array(repeating: Array(repeating: 0, count: 24), count: 7)

    /// The weekday names in row order.
    public static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    /// Epoch-second event times counted in local time in `zone` (UTC when the zone is unknown).
    public init(times: [Int64], zone: String) {
        guard let clock = LocalClock(zone) ?? LocalClock("UTC") else { return }
        for t in times {
            let slot = ActivityProfile.slot(t, clock: clock)  // weekday 0 = Sunday
            counts[(slot / 24 + 6) % 7][slot % 24] += 1
        }
    }

    /// The largest cell.
    public var peak: Int { counts.lazy.flatMap { $0 }.max() ?? 0 }

    /// Events counted.
    public var total: Int { counts.lazy.flatMap { $0 }.reduce(0, +) }
}
