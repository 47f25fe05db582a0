import Foundation
import HeraldCore

/// The 7×24 activity heatmap of one user, in their local time, drawn with shade characters.
struct Heatmap {
    /// counts[weekday 0=Mon…6=Sun][hour].
    var counts: [[Int]] = Array(repeating: Array(repeating: 0, count: 24), count: 7)

    /// A heatmap of epoch-second event times in local time in `zone` (UTC when unknown), bucketed by
    /// the same hour-of-week slot the best_time profile uses.
    init(times: [Int64], zone: String) {
        guard let clock = LocalClock(zone) ?? LocalClock("UTC") else { return }
        for t in times {
            let slot = ActivityProfile.slot(t, clock: clock)  // weekday 0 = Sunday
            counts[(slot / 24 + 6) % 7][slot % 24] += 1
        }
    }

    /// The rendered lines: an hour ruler, then one row per weekday.
    func render() -> [String] {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        let peak = counts.flatMap { $0 }.max() ?? 0
        var lines = ["     " + (0..<24).map { $0 % 6 == 0 ? String($0).padding(toLength: 2, withPad: " ", startingAt: 0) : "  " }.joined()]
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        for (d, row) in counts.enumerated() {
            var s = names[d] + "  "
            for c in row {
                let level = peak == 0 || c == 0 ? 0 : 1 + (c * 3 + peak - 1) / peak
                let ch = shades[min(4, level)]
                s.append(ch)
                s.append(ch)
            }
            lines.append(s + "|")
        }
        return lines
    }
}
