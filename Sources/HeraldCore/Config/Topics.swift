import Yams

/// A subscription topic declared in herald.yaml: the only names campaigns, topic caps and preference changes
/// may use, so a misspelt topic is an error instead of a silent bypass of everyone's opt-outs.
public struct Topic: Sendable, Hashable {
    /// `[a-z0-9][a-z0-9_-]*`
    public var name: String
    /// What users get under it, for people reading the config and preference pages.
    public var description: String?

    /// A declared topic.
    public init(name: String, description: String? = nil) {
        self.name = name
        self.description = description
    }

    /// Nil when `name` is one of `topics`; else why it is refused and a near-miss suggestion.
    public static func undeclared(_ name: String, among topics: [Topic]) -> (message: String, suggestion: String?)? {
        if topics.contains(where: { $0.name == name }) { return nil }
        let quoted = Diagnostic.excerpt(name)
        guard !topics.isEmpty else {
            return (
                "topic '\(quoted)' is not declared: herald.yaml declares no topics; list every topic under "
                    + "'topics:' so that a misspelt one cannot bypass opt-outs", nil
            )
        }
        let names = topics.map(\.name)
        return (
            "topic '\(quoted)' is not declared in herald.yaml (topics: \(names.joined(separator: ", ")))",
            NearMiss.didYouMean(name, among: names)
        )
    }
}

extension HeraldConfig {
    /// The declared topic names, in file order.
    public var topicNames: [String] { topics.map(\.name) }

    /// Nil when `name` is a declared topic; else why it is refused and a near-miss suggestion.
    public func undeclaredTopic(_ name: String) -> (message: String, suggestion: String?)? {
        Topic.undeclared(name, among: topics)
    }

    /// `topics:` — a list whose items are a name, or a one-entry mapping `name: description`.
    static func parseTopics(_ node: Node?, _ y: YAMLFile) -> [Topic] {
        var topics: [Topic] = []
        var lines: [String: Int] = [:]
        guard let node else { return [] }
        guard case .sequence = node else {
            y.report("topics: expected a list such as [promotions, reminders], got \(node.described)", node: node)
            return []
        }
        for (i, item) in y.list(node, "topics").enumerated() {
            let path = "topics[\(i)]"
            var nameNode = item
            var description: String?
            if case .mapping(let m) = item {
                guard m.count == 1, let (k, v) = m.first else {
                    y.report("\(path): expected a name, or one 'name: description' entry", node: item)
                    continue
                }
                nameNode = k
                description = v.isNullScalar ? nil : y.string(v, "\(path) description")
            }
            guard let name = y.name(nameNode, path, pattern: "[a-z0-9][a-z0-9_-]*", NameRules.isTopic) else { continue }
            if let first = lines[name] {
                y.report("\(path): topic '\(name)' is declared twice (first at line \(first))", node: nameNode)
                continue
            }
            lines[name] = nameNode.mark?.line ?? 0
            topics.append(Topic(name: name, description: description))
        }
        return topics
    }
}
