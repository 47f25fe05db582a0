import HeraldLedger

/// The console's charts as inline SVG, drawn by Herald: no script, no library. Every label is escaped; each
/// chart has an accessible name and each mark a `<title>` with its exact number.
public enum SVGCharts {
    /// Horizontal bars, one per item, scaled to the largest (the funnel).
    public static func bars(_ items: [(label: String, value: Int)], label: String, width: Int = 640) -> String {
        let rowHeight = 22
        let labelWidth = 170
        let numberWidth = 80
        let barSpace = width - labelWidth - numberWidth
        let peak = max(1, items.map(\.value).max() ?? 0)
        var out = open(width: width, height: rowHeight * items.count + 8, label: label)
        for (i, item) in items.enumerated() {
            let y = 4 + i * rowHeight
            let w = item.value == 0 ? 0 : max(1, item.value * barSpace / peak)
            out += "<g><title>\(HTML.escape(item.label)): \(item.value)</title>"
            out += "<text x=\"4\" y=\"\(y + 15)\">\(HTML.escape(item.label))</text>"
            out += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(w)\" height=\"\(rowHeight - 6)\" fill=\"#3b6fd8\"/>"
            out += "<text x=\"\(width - 4)\" y=\"\(y + 15)\" text-anchor=\"end\">\(item.value)</text></g>"
        }
        return out + "</svg>"
    }

    /// Columns for hours 0…23 (the local send-hour histogram).
    public static func hours(_ counts: [Int], label: String, width: Int = 640, height: Int = 160) -> String {
        let bottom = height - 20
        let column = (width - 20) / 24
        let peak = max(1, counts.max() ?? 0)
        var out = open(width: width, height: height, label: label)
        for (h, n) in counts.enumerated() {
            let x = 10 + h * column
            let barHeight = n == 0 ? 0 : max(1, n * (bottom - 10) / peak)
            out += "<g><title>\(h < 10 ? "0" : "")\(h):00 \(n)</title>"
            out += "<rect x=\"\(x + 1)\" y=\"\(bottom - barHeight)\" width=\"\(column - 2)\" height=\"\(barHeight)\" fill=\"#3b6fd8\"/>"
            if h % 3 == 0 { out += "<text x=\"\(x + column / 2)\" y=\"\(height - 5)\" text-anchor=\"middle\">\(h)</text>" }
            out += "</g>"
        }
        out += "<line x1=\"10\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#889\"/>"
        return out + "</svg>"
    }

    /// A 7×24 grid of counts (rows Monday…Sunday, columns hours), shaded in five steps of the peak.
    public static func heatmap(_ counts: [[Int]], rowNames: [String], label: String) -> String {
        let cell = 22
        let left = 40
        let top = 18
        let width = left + 24 * cell + 4
        let height = top + counts.count * cell + 4
        let peak = counts.lazy.flatMap { $0 }.max() ?? 0
        let shades = ["#eef1f5", "#c6d8f7", "#8fb1ee", "#5584dd", "#1f4fb0"]
        var out = open(width: width, height: height, label: label)
        for h in stride(from: 0, to: 24, by: 3) {
            out += "<text x=\"\(left + h * cell + cell / 2)\" y=\"12\" text-anchor=\"middle\">\(h)</text>"
        }
        for (d, row) in counts.enumerated() {
            let name = d < rowNames.count ? rowNames[d] : ""
            out += "<text x=\"2\" y=\"\(top + d * cell + 15)\">\(HTML.escape(name))</text>"
            for (h, n) in row.enumerated() {
                let level = peak == 0 || n == 0 ? 0 : min(4, 1 + (n * 3 + peak - 1) / peak)
                out += "<rect x=\"\(left + h * cell)\" y=\"\(top + d * cell)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" "
                out += "fill=\"\(shades[level])\"><title>\(HTML.escape(name)) \(h):00 \(n)</title></rect>"
            }
        }
        return out + "</svg>"
    }

    /// The opening tag of a chart with its accessible name.
    static func open(width: Int, height: Int, label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(HTML.escape(label))\" "
            + "width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
    }
}

extension SVGCharts {
    /// Each variant's lift over the holdout as a dot with its interval, on one axis through zero.
    public static func intervals(_ items: [(label: String, lift: ProportionDifference)], label: String, width: Int = 640)
        -> String
    {
        let rowHeight = 26
        let left = 170
        let right = width - 20
        let span = max(0.01, items.map { max(abs($0.lift.low), abs($0.lift.high)) }.max() ?? 0.01)
        /// The x of a difference.
        func x(_ d: Double) -> Int { left + Int((d + span) / (2 * span) * Double(right - left)) }
        let height = rowHeight * items.count + 24
        var out = open(width: width, height: height, label: label)
        out += "<line x1=\"\(x(0))\" y1=\"2\" x2=\"\(x(0))\" y2=\"\(height - 18)\" stroke=\"#889\" stroke-dasharray=\"3,3\"/>"
        out += "<text x=\"\(x(0))\" y=\"\(height - 4)\" text-anchor=\"middle\">0</text>"
        out += "<text x=\"\(left)\" y=\"\(height - 4)\">\(String(format: "%+.1f", -span * 100)) pp</text>"
        out += "<text x=\"\(right)\" y=\"\(height - 4)\" text-anchor=\"end\">\(String(format: "%+.1f", span * 100)) pp</text>"
        for (i, item) in items.enumerated() {
            let y = 4 + i * rowHeight + rowHeight / 2
            let l = item.lift
            out += "<g><title>\(HTML.escape(item.label)): \(String(format: "%+.1f", l.difference * 100)) pp "
            out += "(\(String(format: "%+.1f", l.low * 100)) to \(String(format: "%+.1f", l.high * 100)))</title>"
            out += "<text x=\"4\" y=\"\(y + 4)\">\(HTML.escape(item.label))</text>"
            out += "<line x1=\"\(x(l.low))\" y1=\"\(y)\" x2=\"\(x(l.high))\" y2=\"\(y)\" stroke=\"#3b6fd8\" stroke-width=\"2\"/>"
            out += "<circle cx=\"\(x(l.difference))\" cy=\"\(y)\" r=\"4\" fill=\"#1f4fb0\"/></g>"
        }
        return out + "</svg>"
    }
}
