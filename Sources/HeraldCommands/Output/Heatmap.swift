import Foundation
import HeraldCore

/// The 7×24 activity heatmap of one user, in their local time, drawn with shade characters.
struct Heatmap {
    /// counts[weekday 0=Mon…6=Sun][hour] (the console draws the same counts).
    var counts: [[Int]]

    /// A heatmap of epoch-second event times in local time in `zone` (UTC when unknown), bucketed by
    /// the same hour-of-week slot the best_time profile uses.
    init(times: [Int64], zone: String) {
        counts = ActivityHeatmap(times: times, zone: zone).counts
    }

    /// The rendered lines: an hour ruler, then one row per weekday.
    func render() -> [String] {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        let peak = counts.flatMap { $0 }.max() ?? 0
        var lines = ["     " + (0..<24).map { $0 % 6 == 0 ? String($0).padding(toLength: 2, withPad: " ", startingAt: 0) : "  " }.joined()]
        let names = ActivityHeatmap.weekdays
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
