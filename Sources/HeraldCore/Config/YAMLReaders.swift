import Foundation
import Yams

/// Typed readers: each returns nil after reporting when the node has the wrong shape.
extension YAMLFile {
    /// False, after one error that quotes none of it, when `root` is not a mapping with at least one of the
    /// `known` keys: some other file (a password list or a key, linked or copied in by mistake) would
    /// otherwise be echoed line by line as unknown keys.
    func isDocument(_ root: Node, of what: String, known: [String]) -> Bool {
        if case .mapping(let m) = root, m.contains(where: { known.contains($0.key.scalar?.string ?? "") }) {
            return true
        }
        let keys = known.prefix(3).joined(separator: ", ")
        report("'\(file)' is not \(what): it has none of its top-level keys (\(keys), …)", at: nil)
        return false
    }

    /// A mapping with only `known` keys and every `required` one; `path` names it in messages.
    func map(_ node: Node?, _ path: String, known: [String], required: [String] = []) -> YMap? {
        guard let node else { return nil }
        guard case .mapping(let m) = node else {
            report("\(path): expected a mapping, got \(node.described)", node: node)
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (k, v) in m {
            guard case .scalar(let ks) = k else {
                report("\(path): keys must be plain names, got \(k.described)", node: k)
                continue
            }
            let key = ks.string
            if !known.contains(key) {
                let list = known.joined(separator: ", ")
                report(
                    "unknown key '\(Diagnostic.excerpt(key))' in \(path); known keys: \(list)", node: k,
                    suggestion: NearMiss.didYouMean(key, among: known))
                continue
            }
            entries.append((key, k, v))
        }
        let result = YMap(node: node, entries: entries)
        for r in required where result[r] == nil {
            if let k = result.keyNode(r) {
                report("\(path): '\(r)' needs a value", node: k)
            } else {
                report("\(path): missing required key '\(r)'", node: node)
            }
        }
        return result
    }

    /// A mapping whose keys are free-form names (e.g. attributes, endpoints), in file order.
    func namedEntries(_ node: Node?, _ path: String) -> [(key: String, keyNode: Node, value: Node)] {
        guard let node else { return [] }
        guard case .mapping(let m) = node else {
            report("\(path): expected a mapping, got \(node.described)", node: node)
            return []
        }
        return m.compactMap { k, v in
            guard case .scalar(let ks) = k else {
                report("\(path): keys must be plain names, got \(k.described)", node: k)
                return nil
            }
            return (ks.string, k, v)
        }
    }

    /// A non-empty string scalar.
    func string(_ node: Node?, _ field: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, !node.isNullScalar else {
            report("\(field): expected a string, got \(node.described)", node: node)
            return nil
        }
        guard !s.string.isEmpty else {
            report("\(field): expected a non-empty string", node: node)
            return nil
        }
        return s.string
    }

    /// A string that matches `pattern` (a description such as "[a-z0-9][a-z0-9-]*" plus a check).
    func name(_ node: Node?, _ field: String, pattern: String, _ ok: (String) -> Bool) -> String? {
        guard let s = string(node, field) else { return nil }
        guard ok(s) else {
            report("\(field): '\(Diagnostic.excerpt(s))' is not a valid name; use \(pattern)", node: node)
            return nil
        }
        return s
    }

    /// An integer, optionally inside `range`.
    func int(_ node: Node?, _ field: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Int(s.string) else {
            report("\(field): expected an integer, got \(node.described)", node: node)
            return nil
        }
        if let range, !range.contains(v) {
            report("\(field): \(v) is out of range \(range.lowerBound)…\(range.upperBound)", node: node)
            return nil
        }
        return v
    }

    /// `true` or `false`.
    func bool(_ node: Node?, _ field: String) -> Bool? {
        guard let node else { return nil }
        if case .scalar(let s) = node {
            switch s.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        report("\(field): expected true or false, got \(node.described)", node: node)
        return nil
    }

    /// A positive duration such as `30d`, in seconds.
    func duration(_ node: Node?, _ field: String) -> Int64? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = DurationSpec.seconds(s.string), v > 0 else {
            report("\(field): expected a duration such as 30d, got \(node.described)", node: node)
            return nil
        }
        return v
    }

    /// A rate such as `50/s`.
    func rate(_ node: Node?, _ field: String) -> SendRate? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let r = SendRate(parsing: s.string) else {
            report("\(field): expected a rate such as 50/s, 300/m or 1000/h, got \(node.described)", node: node)
            return nil
        }
        return r
    }

    /// A local clock time `HH:MM`.
    func clock(_ node: Node?, _ field: String) -> ClockTime? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let c = ClockTime(parsing: s.string) else {
            report("\(field): expected a local time such as \"09:30\", got \(node.described)", node: node)
            return nil
        }
        return c
    }

    /// A percentage `N%` between 0 and 100.
    func percent(_ node: Node?, _ field: String) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, s.string.hasSuffix("%"), let v = Double(s.string.dropLast()),
            v >= 0, v <= 100
        else {
            report("\(field): expected a percentage from 0% to 100% such as 10%, got \(node.described)", node: node)
            return nil
        }
        return v
    }

    /// A known IANA time-zone name.
    func zone(_ node: Node?, _ field: String) -> String? {
        guard let name = string(node, field) else { return nil }
        guard ZoneTable.shared.isValid(name) else {
            report(
                "\(field): unknown time zone '\(Diagnostic.excerpt(name))'", node: node,
                suggestion: NearMiss.didYouMean(name, among: TimeZone.knownTimeZoneIdentifiers))
            return nil
        }
        return name
    }

    /// One of the raw values of `T`.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node?, _ field: String, _: T.Type) -> T?
    where T.RawValue == String {
        guard let s = string(node, field) else { return nil }
        if let v = T(rawValue: s) { return v }
        let all = T.allCases.map(\.rawValue)
        report(
            "\(field): expected one of \(all.joined(separator: ", ")), got '\(Diagnostic.excerpt(s))'", node: node,
            suggestion: NearMiss.didYouMean(s, among: all))
        return nil
    }

    /// A list of nodes; a single scalar counts as a one-element list.
    func list(_ node: Node?, _ field: String) -> [Node] {
        guard let node else { return [] }
        switch node {
        case .sequence(let s): return Array(s)
        case .scalar: return [node]
        default:
            report("\(field): expected a list, got \(node.described)", node: node)
            return []
        }
    }
}

/// Character-class checks for ids, topics and names.
enum NameRules {
    /// `[a-z0-9][a-z0-9-]*`
    static func isCampaignID(_ s: String) -> Bool { check(s, extra: "-") }
    /// `[a-z0-9][a-z0-9_-]*`
    static func isTopic(_ s: String) -> Bool { check(s, extra: "_-") }
    /// An event name: `[A-Za-z0-9_.:-]+`.
    static func isEventName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic && $0.isASCII || "0123456789_.:-".unicodeScalars.contains($0) }
    }

    private static func check(_ s: String, extra: String) -> Bool {
        guard let first = s.unicodeScalars.first, isLowerAlnum(first) else { return false }
        return s.unicodeScalars.allSatisfy { isLowerAlnum($0) || extra.unicodeScalars.contains($0) }
    }

    private static func isLowerAlnum(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("0"..."9").contains(c)
    }
}
