/// `herald journey show ID [--format text|dot|mermaid]`: a journey's steps and paths (docs/journeys.md, "Graphs").
public enum JourneyGraph {
    /// The output formats.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// One block per step, its outcomes indented under it.
        case text
        /// Graphviz `dot`.
        case dot
        /// A Mermaid `flowchart`.
        case mermaid
    }

    /// One outgoing path of a step: its label (`done`, `event`, `if …`, `90%`, …) and target.
    public struct Edge: Sendable, Hashable {
        /// What takes this path.
        public var label: String
        /// Where it goes.
        public var target: JourneyTarget
    }

    /// `journey` drawn in `format`; the text ends with a newline.
    public static func render(_ journey: JourneyDefinition, format: Format) -> String {
        switch format {
        case .text: text(journey)
        case .dot: dot(journey)
        case .mermaid: mermaid(journey)
        }
    }

    /// The step's outgoing paths, in outcome order.
    public static func edges(_ step: JourneyStep) -> [Edge] {
        switch step.kind {
        case .message(let m): [Edge(label: "done", target: m.next)]
        case .wait(let w): [Edge(label: "done", target: w.next)]
        case .waitFor(let w):
            [Edge(label: "event", target: w.onEvent), Edge(label: "timeout", target: w.onTimeout)]
        case .branch(let b):
            b.arms.map { Edge(label: "if " + oneLine($0.condition.source.text), target: $0.goto) }
                + [Edge(label: "else", target: b.otherwise)]
        case .split(let s): s.arms.map { Edge(label: percent($0.percent), target: $0.goto) }
        }
    }

    /// A one-line summary of what the step does, e.g. `wait_for purchase within 2d`.
    public static func summary(_ step: JourneyStep) -> String {
        switch step.kind {
        case .message(let m):
            let channels = ([m.message.channel] + m.message.fallback).map(\.rawValue).joined(separator: " → ")
            var s = "message \(channels), \(m.sendTime.strategy.rawValue)"
            if let t = m.sendTime.localTime { s += " \(t)" }
            s += " within \(DurationSpec.format(m.sendTime.within))"
            return m.onCapped == .skip ? s + ", on_capped skip" : s
        case .wait(let w):
            switch w.length {
            case .duration(let d): return "wait \(DurationSpec.format(d))"
            case .until(let t, let days):
                let all = days.count == Weekday.allCases.count
                return "wait until \(t)"
                    + (all ? "" : " on " + days.sorted().map(\.name).joined(separator: ","))
            }
        case .waitFor(let w):
            let filter = w.filter.map { " where " + oneLine($0.source.text) } ?? ""
            return "wait_for \(w.event)\(filter) within \(DurationSpec.format(w.within))"
        case .branch: return "branch"
        case .split: return "split"
        }
    }

    static func text(_ j: JourneyDefinition) -> String {
        var out = "journey \(j.id): \(j.name) (\(j.status.rawValue)), version \(j.version.hex.prefix(12))\n"
        out += "entry: re_entry " + reEntry(j.reEntry) + "\n"
        if !j.exitWhen.isEmpty {
            let parts = j.exitWhen.map { c -> String in
                switch c {
                case .event(let e): "event \(e)"
                case .segment(let s): "segment " + oneLine(s.source.text)
                }
            }
            out += "exit when: " + parts.joined(separator: "; ") + "\n"
        }
        let width = String(j.steps.count).count
        for (i, step) in j.steps.enumerated() {
            let n = String(i + 1)
            out +=
                "\n" + String(repeating: " ", count: width - n.count) + "\(n). \(step.id): \(summary(step))\n"
            for e in edges(step) {
                out += String(repeating: " ", count: width + 2) + "\(e.label) → \(e.target)\n"
            }
        }
        return out
    }

    static func dot(_ j: JourneyDefinition) -> String {
        func id(_ t: JourneyTarget) -> String {
            switch t {
            case .step(let s): quoteDot("step:" + s)
            case .exit: "\"exit\""
            }
        }
        var out = "digraph \(quoteDot(j.id)) {\n"
        out +=
            "  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n"
        out += "  \"entry\" [shape=circle, label=\"entry\"];\n"
        for step in j.steps {
            let shape: String =
                switch step.kind {
                case .branch, .split: "diamond"
                case .wait, .waitFor: "box, style=rounded"
                case .message: "box"
                }
            out +=
                "  \(id(.step(step.id))) [shape=\(shape), label=\(quoteDot(step.id + "\n" + summary(step)))];\n"
        }
        out += "  \"exit\" [shape=doublecircle, label=\"exit\"];\n"
        out += "  \"entry\" -> \(id(j.entryTarget));\n"
        for step in j.steps {
            let es = edges(step)
            for e in es {
                let label = es.count == 1 ? "" : " [label=\(quoteDot(e.label))]"
                out += "  \(id(.step(step.id))) -> \(id(e.target))\(label);\n"
            }
        }
        return out + "}\n"
    }

    static func mermaid(_ j: JourneyDefinition) -> String {
        var index: [String: Int] = [:]
        for (i, s) in j.steps.enumerated() { index[s.id] = i }
        func id(_ t: JourneyTarget) -> String {
            switch t {
            case .step(let s): "s\(index[s] ?? 0)"
            case .exit: "exit"
            }
        }
        var out = "flowchart TD\n  entry((\"entry\"))\n"
        for (i, step) in j.steps.enumerated() {
            let label = quoteMermaid(step.id) + "<br/>" + quoteMermaid(summary(step))
            switch step.kind {
            case .branch, .split: out += "  s\(i){\"\(label)\"}\n"
            case .wait, .waitFor: out += "  s\(i)(\"\(label)\")\n"
            case .message: out += "  s\(i)[\"\(label)\"]\n"
            }
        }
        out += "  exit(((\"exit\")))\n"
        out += "  entry --> \(id(j.entryTarget))\n"
        for (i, step) in j.steps.enumerated() {
            let es = edges(step)
            for e in es {
                let label = es.count == 1 ? "" : "|\"\(quoteMermaid(e.label))\"|"
                out += "  s\(i) -->\(label) \(id(e.target))\n"
            }
        }
        return out
    }

    static func reEntry(_ r: JourneyDefinition.ReEntry) -> String {
        switch r {
        case .never: "never"
        case .always: "always"
        case .after(let d): "after \(DurationSpec.format(d))"
        }
    }

    static func percent(_ p: Double) -> String {
        (p == p.rounded() ? String(Int(p)) : String(p)) + "%"
    }

    /// An expression on one line, runs of whitespace (block scalars' newlines) as one space.
    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// A Graphviz quoted string; a newline becomes `\n` (a centred line break).
    static func quoteDot(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    /// Text for a quoted Mermaid label: quotes and markup characters as entity codes.
    static func quoteMermaid(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\"": out += "#quot;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "#": out += "#35;"
            default: out.append(c)
            }
        }
        return out
    }
}
