import Foundation
import Yams

/// One YAML file being read: its lines (for caret output) and the diagnostics found so far.
final class YAMLFile {
    let file: String
    let lines: [String]
    private(set) var diagnostics: [Diagnostic] = []

    /// The diagnostics in file order (this file first by line and column, then others as found).
    var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            func key(_ d: Diagnostic) -> (Int, Int, Int) {
                guard let l = d.location, l.file == file else { return (1, 0, 0) }
                return (0, l.line, l.column)
            }
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    init(file: String, text: String) {
        self.file = file
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
    }

    /// The text of 1-based `line`, if it exists, with URL passwords (`scheme://user:PASSWORD@`) masked.
    func line(_ n: Int) -> String? { n >= 1 && n <= lines.count ? Self.maskURLPasswords(lines[n - 1]) : nil }

    /// `postgres://u:secret@h` → `postgres://u:***@h`, so source lines in errors never show credentials.
    static func maskURLPasswords(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "\"" || $0 == "'" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out += authority[...colon] + "***"
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// A location in this file; a mark past the last line (end of input) moves to the end of the last line.
    func location(_ mark: Mark?) -> SourceLocation {
        let line = mark?.line ?? 1
        if line > lines.count, let last = lines.indices.last(where: { !lines[$0].isEmpty }) {
            return SourceLocation(file: file, line: last + 1, column: lines[last].count + 1)
        }
        return SourceLocation(file: file, line: line, column: mark?.column ?? 1)
    }

    /// Records an error (or other severity) at `location`; fills the source line when it is in this file.
    func report(
        _ message: String, at location: SourceLocation?, length: Int = 1, suggestion: String? = nil,
        severity: Diagnostic.Severity = .error
    ) {
        let src = location.flatMap { $0.file == file ? line($0.line) : nil }
        diagnostics.append(
            Diagnostic(
                severity, at: location, Self.bounded(message), sourceLine: src, length: length,
                suggestion: suggestion.map(Self.bounded)))
    }

    /// The longest message kept, in characters: a value quoted whole from a huge line is cut here.
    static let maxMessage = 400

    /// `message` on one line, at most `maxMessage` characters: a message never carries more of a file than that.
    static func bounded(_ message: String) -> String {
        let one = Diagnostic.printable(message)
        return one.count > maxMessage ? String(one.prefix(maxMessage)) + "…" : one
    }

    /// Records an error at a node, with a caret as wide as a scalar's text.
    func report(_ message: String, node: Node?, suggestion: String? = nil) {
        report(message, at: node.map { location($0.mark) }, length: node.map(Self.width) ?? 1, suggestion: suggestion)
    }

    /// Adds diagnostics produced elsewhere, filling source lines of this file.
    func absorb(_ list: [Diagnostic]) {
        for var d in list {
            if let l = d.location, l.file == file, let text = line(l.line) { d.sourceLine = text }
            d.message = Self.bounded(d.message)
            diagnostics.append(d)
        }
    }

    /// Parses the text into one root node; a YAML syntax error becomes a located diagnostic.
    func compose(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let extra = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
                report("malformed YAML: \(problem)\(extra)", at: location(mark))
            case .duplicatedKeysInMapping(let duplicates, let context):
                let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                let first = context.mark
                if duplicates.count == 1, let again = repeatedKey(duplicates[0], after: first) {
                    report("duplicate key \(names) in a mapping (first defined at line \(first.line))", at: again)
                } else {
                    report("duplicate key \(names) in a mapping", at: location(first))
                }
            case .reader(let problem, _, _, _):
                report("unreadable YAML: \(problem)", at: location(nil))
            default:
                report("malformed YAML: \(error)", at: location(nil))
            }
        } catch {
            report("malformed YAML: \(error)", at: location(nil))
        }
        return nil
    }

    /// The next block-mapping line that repeats `key` at the column of its first occurrence.
    private func repeatedKey(_ key: String, after first: Mark) -> SourceLocation? {
        let indent = first.column - 1
        guard first.line < lines.count else { return nil }
        for n in (first.line + 1)...lines.count {
            let text = lines[n - 1]
            let lead = text.prefix { $0 == " " }.count
            if lead < indent && !text.allSatisfy({ $0 == " " }) && !text.hasPrefix("#") { return nil }
            if lead == indent, text.dropFirst(indent).hasPrefix(key + ":") {
                return SourceLocation(file: file, line: n, column: first.column)
            }
        }
        return nil
    }

    /// Decodes file bytes as UTF-8, reporting the first invalid byte's position.
    static func decode(_ data: Data, file: String) -> (String?, Diagnostic?) {
        let bytes = [UInt8](data)
        if let text = String(validating: bytes, as: UTF8.self) { return (text, nil) }
        var line = 1
        var lineStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let len: Int = b < 0x80 ? 1 : b >> 5 == 0x6 ? 2 : b >> 4 == 0xE ? 3 : b >> 3 == 0x1E ? 4 : 0
            let ok =
                len > 0 && i + len <= bytes.count
                && String(validating: bytes[i..<(i + len)], as: UTF8.self) != nil
            if !ok {
                let prefix = String(decoding: bytes[lineStart..<i], as: UTF8.self)
                let at = SourceLocation(file: file, line: line, column: prefix.count + 1)
                let hex = String(b, radix: 16, uppercase: true)
                return (nil, Diagnostic(at: at, "the file is not valid UTF-8 (byte 0x\(hex))"))
            }
            if b == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += len
        }
        return (nil, Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "the file is not valid UTF-8"))
    }

    /// How wide the caret under a node should be.
    static func width(_ node: Node) -> Int {
        guard case .scalar(let s) = node else { return 1 }
        switch s.style {
        case .singleQuoted, .doubleQuoted: return s.string.count + 2
        case .literal, .folded: return 1
        default: return max(1, s.string.split(separator: "\n").first?.count ?? 1)
        }
    }

    /// Where the text of a scalar starts: after the quote, or on the line after a block indicator.
    func origin(of node: Node) -> SourceOrigin {
        let mark = node.mark
        let line = mark?.line ?? 1
        let col = mark?.column ?? 1
        guard case .scalar(let s) = node else { return SourceOrigin(file: file, line: line, column: col) }
        switch s.style {
        case .singleQuoted, .doubleQuoted:
            return SourceOrigin(file: file, line: line, column: col + 1, continuationColumn: col + 1)
        case .literal, .folded:
            var n = line + 1
            while let text = self.line(n), text.allSatisfy({ $0 == " " || $0 == "\t" }) { n += 1 }
            guard let text = self.line(n) else { return SourceOrigin(file: file, line: line, column: col) }
            // Text line 1 is the line after the indicator (leading blank lines stay in the text);
            // every line starts at the block's indentation, taken from its first non-blank line.
            let indent = text.prefix { $0 == " " }.count + 1
            let first = s.string.hasPrefix("\n") ? line + 1 : n
            return SourceOrigin(file: file, line: first, column: indent, continuationColumn: indent)
        default:
            return SourceOrigin(file: file, line: line, column: col, continuationColumn: col)
        }
    }

    /// The file location of character `column0` (0-based) on text line `line0` (0-based) of a scalar.
    static func locate(line0: Int, column0: Int, in origin: SourceOrigin) -> SourceLocation {
        line0 == 0
            ? SourceLocation(file: origin.file, line: origin.line, column: origin.column + column0)
            : SourceLocation(file: origin.file, line: origin.line + line0, column: origin.continuationColumn + column0)
    }
}

/// A YAML mapping whose keys have been checked against the known ones.
struct YMap {
    let node: Node
    let entries: [(key: String, keyNode: Node, value: Node)]

    /// The value for `key`, unless it is absent or null.
    subscript(_ key: String) -> Node? {
        guard let v = entries.first(where: { $0.key == key })?.value, !v.isNullScalar else { return nil }
        return v
    }

    /// True when `key` is written, even with an empty value.
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The key node of `key`.
    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }
}

extension Node {
    /// True for `~`, `null` or an empty plain scalar.
    var isNullScalar: Bool {
        guard case .scalar(let s) = self, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// A short description for "got …" messages.
    var described: String {
        switch self {
        case .scalar(let s): isNullScalar ? "nothing" : "'\(Diagnostic.excerpt(s.string))'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
