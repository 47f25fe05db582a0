import HeraldCore
import HeraldLedger

/// A journey's graph as SVG: steps in layers by their distance from the entry (breadth first), each box with
/// its kind and the users at it now and through it so far, arrows labelled with what takes each path.
public enum JourneyDiagram {
    static let boxWidth = 210
    static let boxHeight = 58
    static let gap = 30
    static let layerHeight = 100

    /// The layer of every node: `entry` 0, then steps by breadth-first distance; `exit` below all of them.
    /// Steps that cannot be reached from the entry go in a last layer of their own before `exit`.
    static func layers(_ journey: JourneyDefinition) -> [[String]] {
        var depth: [String: Int] = [:]
        var queue: [String] = []
        if case .step(let first) = journey.entryTarget {
            depth[first] = 1
            queue.append(first)
        }
        let steps = Dictionary(journey.steps.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < queue.count {
            let id = queue[i]
            i += 1
            for case .step(let next) in steps[id]?.targets ?? [] where depth[next] == nil {
                depth[next] = depth[id]! + 1
                queue.append(next)
            }
        }
        let deepest = depth.values.max() ?? 0
        for s in journey.steps where depth[s.id] == nil { depth[s.id] = deepest + 1 }
        let last = (depth.values.max() ?? 0) + 1
        var out = [[String]](repeating: [], count: last + 1)
        out[0] = ["entry"]
        for s in journey.steps { out[depth[s.id]!].append(s.id) }
        out[last] = ["exit"]
        return out.filter { !$0.isEmpty }
    }

    /// The journey drawn with `counts`.
    public static func svg(_ journey: JourneyDefinition, counts: JourneyStepCounts) -> String {
        let rows = layers(journey)
        let widest = rows.map(\.count).max() ?? 1
        let width = max(360, widest * (boxWidth + gap) + gap)
        let height = rows.count * layerHeight + 20
        var position: [String: (x: Int, y: Int)] = [:]
        for (r, row) in rows.enumerated() {
            let rowWidth = row.count * boxWidth + (row.count - 1) * gap
            for (c, id) in row.enumerated() {
                position[id] = (x: (width - rowWidth) / 2 + c * (boxWidth + gap), y: 10 + r * layerHeight)
            }
        }
        var out = SVGCharts.open(width: width, height: height, label: "graph of journey \(journey.id)")
        out += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
        out += "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#667\"/></marker></defs>"
        /// An arrow from node `from` to node `to`, labelled.
        func edge(_ from: String, _ to: String, _ label: String) {
            guard let a = position[from], let b = position[to] else { return }
            let x1 = a.x + boxWidth / 2
            let y1 = a.y + boxHeight
            let x2 = b.x + boxWidth / 2
            let y2 = b.y
            let bend = y2 > y1 ? 30 : 80
            out += "<path d=\"M\(x1),\(y1) C\(x1),\(y1 + bend) \(x2),\(y2 - bend) \(x2),\(y2)\" fill=\"none\" "
            out += "stroke=\"#667\" marker-end=\"url(#arrow)\"/>"
            if !label.isEmpty {
                out += "<text x=\"\((x1 + x2) / 2 + 4)\" y=\"\((y1 + y2) / 2)\">\(HTML.escape(clip(label, 28)))</text>"
            }
        }
        if case .step(let first) = journey.entryTarget { edge("entry", first, "") }
        for step in journey.steps {
            let es = JourneyGraph.edges(step)
            for e in es { edge(step.id, e.target.description, es.count == 1 ? "" : e.label) }
        }
        for id in rows.joined() {
            guard let p = position[id] else { continue }
            out += "<g>"
            if id == "entry" || id == "exit" {
                out += "<rect x=\"\(p.x + boxWidth / 2 - 40)\" y=\"\(p.y + 14)\" width=\"80\" height=\"30\" rx=\"15\" "
                out += "fill=\"#eef1f5\" stroke=\"#667\"/><text x=\"\(p.x + boxWidth / 2)\" y=\"\(p.y + 33)\" "
                out += "text-anchor=\"middle\">\(id)</text></g>"
                continue
            }
            guard let step = journey.steps.first(where: { $0.id == id }) else { continue }
            let at = counts.at[id] ?? 0
            let through = counts.through[id] ?? 0
            out += "<title>\(HTML.escape(id)): \(HTML.escape(JourneyGraph.summary(step))); \(at) at, \(through) through</title>"
            out += "<rect x=\"\(p.x)\" y=\"\(p.y)\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"6\" "
            out += "fill=\"#fff\" stroke=\"#3b6fd8\"/>"
            out += "<text x=\"\(p.x + 8)\" y=\"\(p.y + 16)\" font-weight=\"bold\">\(HTML.escape(clip(id, 30)))</text>"
            out += "<text x=\"\(p.x + 8)\" y=\"\(p.y + 32)\">\(HTML.escape(clip(JourneyGraph.summary(step), 34)))</text>"
            out += "<text x=\"\(p.x + 8)\" y=\"\(p.y + 49)\">at \(at) · through \(through)</text></g>"
        }
        return out + "</svg>"
    }

    /// `s` cut to `n` characters with an ellipsis.
    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
}
