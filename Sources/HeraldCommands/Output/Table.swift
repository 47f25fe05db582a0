import HeraldCore

/// A plain text table: a header row and left-aligned columns (numbers right-aligned).
struct TextTable {
    /// Column titles.
    var header: [String]
    /// Rows of cells.
    var rows: [[String]] = []

    /// Adds a row.
    mutating func add(_ cells: [String]) { rows.append(cells) }

    /// The rendered lines; control characters in cells are shown escaped (`VisibleText`), so a value from
    /// outside cannot break a row or colour the terminal.
    func render() -> [String] {
        let header = header.map(VisibleText.escape)
        let rows = rows.map { $0.map(VisibleText.escape) }
        var widths = header.map { $0.count }
        for r in rows {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, w) in widths.enumerated() {
                let c = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: w - c.count)
                let numeric = !c.isEmpty && c.allSatisfy { $0.isNumber || $0 == "." || $0 == "%" || $0 == "-" }
                parts.append(numeric ? pad + c : c + pad)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return [line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)
    }
}
