import Foundation
import Yams

extension CampaignParser {
    /// `experiment:`: a holdout percentage and weighted variants with optional message overrides.
    func experiment(_ node: Node?, base: Campaign.Message?, trigger: Campaign.Trigger? = nil) -> Campaign.Experiment? {
        guard let m = y.map(node, "experiment", known: ["holdout", "variants", "winner"]) else { return nil }
        let holdout = m["holdout"] == nil ? 0 : y.percent(m["holdout"], "experiment.holdout")
        var variants: [Campaign.Variant] = []
        var seen: [String: Int] = [:]
        var percentWeights: [Double] = []
        var plainWeights = 0
        var ok = holdout != nil
        let nodes = y.list(m["variants"], "experiment.variants")
        for (i, vn) in nodes.enumerated() {
            let path = "experiment.variants[\(i)]"
            guard let v = y.map(vn, path, known: ["id", "weight", "message"], required: ["id", "weight"]) else {
                ok = false
                continue
            }
            let id = y.name(v["id"], "\(path).id", pattern: "[a-z0-9][a-z0-9_-]*", NameRules.isTopic)
            if let id, let n = v["id"] {
                if let first = seen[id] {
                    y.report("\(path).id: duplicate variant id '\(id)' (first used at line \(first))", node: n)
                    ok = false
                } else {
                    seen[id] = n.mark?.line ?? 0
                }
            }
            var weight: Double?
            if let w = v["weight"], case .scalar(let s) = w {
                if s.string.hasSuffix("%") {
                    weight = y.percent(w, "\(path).weight")
                    if let p = weight { percentWeights.append(p) }
                } else if let d = Double(s.string), d > 0, d.isFinite {
                    weight = d
                    plainWeights += 1
                }
                if weight == 0 { weight = nil }
            }
            if weight == nil, let w = v["weight"] {
                y.report("\(path).weight: expected a positive weight such as 50 or 50%, got \(w.described)", node: w)
            }
            var message: Campaign.Message?
            if let mn = v["message"] {
                message = self.message(mn, "\(path).message", base: base, override: true)
                if message == nil { ok = false }
            }
            guard let id, let weight else {
                ok = false
                continue
            }
            variants.append(Campaign.Variant(id: id, weight: weight, message: message))
        }
        if !percentWeights.isEmpty {
            let sum = percentWeights.reduce(0, +)
            if plainWeights > 0 {
                y.report("experiment.variants: give every weight as a percentage, or none", node: m["variants"])
                ok = false
            } else if abs(sum - 100) > 1e-9 {
                let shown = sum == sum.rounded() ? String(Int(sum)) : String(sum)
                y.report("experiment.variants: weights given as percentages sum to \(shown)%, expected 100%",
                         node: m["variants"])
                ok = false
            }
        }
        var winner: Campaign.Winner?
        if let w = m["winner"] {
            winner = self.winner(w, trigger: trigger, variants: nodes.count)
            if winner == nil { ok = false }
        }
        guard ok, let holdout else { return nil }
        var experiment = Campaign.Experiment(holdoutPercent: holdout, variants: variants)
        experiment.winner = winner
        return experiment
    }
}

/// Loads every campaign file of a folder.
public enum CampaignSet {
    /// Every `*.yaml` / `*.yml` in `directory`, in name order; ids must be unique across files.
    /// A bad file never hides the errors of the others; only valid campaigns are returned (journeys are
    /// validated too, and left out: `loadAll` returns them).
    public static func load(directory: String, config: HeraldConfig) -> (campaigns: [Campaign], diagnostics: [Diagnostic]) {
        let all = loadAll(directory: directory, config: config)
        return (all.campaigns, all.diagnostics)
    }

    /// Every campaign and journey file in `directory`, in name order; ids must be unique across campaigns and
    /// journeys (a journey's id keys its ledger rows like a campaign's).
    public static func loadAll(directory: String, config: HeraldConfig)
        -> (campaigns: [Campaign], journeys: [JourneyDefinition], diagnostics: [Diagnostic])
    {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            return ([], [], [Diagnostic(at: nil, "cannot read the campaigns directory '\(directory)'")])
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var campaigns: [Campaign] = []
        var journeys: [JourneyDefinition] = []
        var diagnostics: [Diagnostic] = []
        var owners: [String: String] = [:]
        for name in files {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            let (content, diags) = CampaignFile.loadAny(path: path, config: config)
            diagnostics += diags
            guard let content else { continue }
            if let other = owners[content.id] {
                diagnostics.append(
                    Diagnostic(
                        at: idLocation(path), "duplicate campaign id '\(content.id)': also used by \(other)",
                        sourceLine: idLine(path)))
                continue
            }
            owners[content.id] = path
            switch content {
            case .campaign(let c): campaigns.append(c)
            case .journey(let j):
                journeys.append(j)
            }
        }
        return (campaigns, journeys, diagnostics)
    }

    /// The location of the `id:` line of a campaign file, for duplicate-id errors.
    private static func idLocation(_ path: String) -> SourceLocation {
        let lines = (try? String(contentsOfFile: path, encoding: .utf8))?.split(
            separator: "\n", omittingEmptySubsequences: false) ?? []
        let n = lines.firstIndex { $0.hasPrefix("id:") }.map { $0 + 1 } ?? 1
        return SourceLocation(file: path, line: n, column: 1)
    }

    private static func idLine(_ path: String) -> String? {
        let lines = (try? String(contentsOfFile: path, encoding: .utf8))?.split(
            separator: "\n", omittingEmptySubsequences: false) ?? []
        return lines.first { $0.hasPrefix("id:") }.map(String.init)
    }
}
