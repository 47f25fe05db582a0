/// A parsed Mustache message template.
///
/// Supported tags: `{{name}}` (HTML-escaped when rendering HTML), `{{{name}}}` and `{{& name}}` (raw),
/// `{{#name}}…{{/name}}` (section: shown when the value is present, non-empty, not `false` and not 0;
/// repeated for each element of a list, with `{{.}}` naming the element), `{{^name}}…{{/name}}`
/// (inverted section), `{{! comment}}`. Partials `{{> name}}` and delimiter changes `{{=<% %>=}}` are refused.
///
/// Fallback syntax (Herald's extension): `{{name|text}}` renders `text` when `name` is missing, null
/// or the empty string. The text runs from the first `|` to the closing braces, with surrounding
/// spaces trimmed; it is literal (no nested tags) and is escaped like the value would be.
/// Example: `Hi {{first_name|there}}` renders `Hi there` for a user without a first name.
public struct MessageTemplate: Sendable, Hashable {
    /// One piece of a template.
    public indirect enum Part: Sendable, Hashable {
        /// Literal text.
        case text(String)
        /// A value, with an optional fallback; `escaped` is false for `{{{…}}}` and `{{& …}}`.
        case variable(name: String, fallback: String?, escaped: Bool)
        /// A section (or inverted section) over `name`.
        case section(name: String, inverted: Bool, body: [Part])
    }

    /// A tag with its position in the template text (0-based line and column, in characters).
    public struct Tag: Sendable, Hashable {
        /// The field name the tag refers to.
        public var name: String
        /// 0-based line in the template text.
        public var line: Int
        /// 0-based column in the template text.
        public var column: Int
        /// Length of the whole tag in characters.
        public var length: Int
    }

    /// A syntax problem with its position in the template text.
    public struct Problem: Sendable, Hashable {
        /// What is wrong.
        public var message: String
        /// 0-based line.
        public var line: Int
        /// 0-based column.
        public var column: Int
    }

    /// The template text.
    public let source: String
    /// The parsed pieces.
    public let parts: [Part]
    /// Every field reference (variables and section names), in order.
    public let tags: [Tag]
    /// The template file this came from, or nil for inline text.
    public let file: String?

    /// The distinct field names the template uses (excluding `.`).
    public var variables: Set<String> { Set(tags.map(\.name)).subtracting(["."]) }

    /// Parses `source`; syntax problems are returned, and the template is still built from what parsed.
    public static func parse(_ source: String, file: String? = nil) -> (MessageTemplate, [Problem]) {
        var scanner = TemplateScanner(Array(source))
        let parts = scanner.run()
        return (MessageTemplate(source: source, parts: parts, tags: scanner.tags, file: file), scanner.problems)
    }

    /// Renders with `lookup` giving each field's value; `html` escapes `{{…}}` values for HTML.
    public func render(html: Bool = false, _ lookup: (String) -> Value?) -> String {
        var out = ""
        Self.render(parts, html: html, dot: nil, lookup, into: &out)
        return out
    }

    private static func render(
        _ parts: [Part], html: Bool, dot: String?, _ lookup: (String) -> Value?, into out: inout String
    ) {
        func value(_ name: String) -> Value? { name == "." ? dot.map(Value.string) : lookup(name) }
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .variable(let name, let fallback, let escaped):
                var text = value(name).map(display) ?? ""
                if text.isEmpty, let fallback { text = fallback }
                out += html && escaped ? escapeHTML(text) : text
            case .section(let name, let inverted, let body):
                let v = value(name)
                if case .list(let items)? = v, !inverted {
                    for item in items { render(body, html: html, dot: item, lookup, into: &out) }
                } else if truthy(v) != inverted {
                    render(body, html: html, dot: dot, lookup, into: &out)
                }
            }
        }
    }

    private static func truthy(_ v: Value?) -> Bool {
        switch v {
        case nil, .null?: false
        case .bool(let b)?: b
        case .number(let n)?: n != 0
        case .string(let s)?: !s.isEmpty
        case .list(let l)?: !l.isEmpty
        case .timestamp?: true
        }
    }

    private static func display(_ v: Value) -> String {
        switch v {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .timestamp(let t): TimestampParser.formatUTC(seconds: t)
        case .list(let l): l.joined(separator: ", ")
        }
    }

    /// Text made safe inside an HTML element or a quoted attribute.
    public static func escapeHTML(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The tag scanner behind `MessageTemplate.parse`.
struct TemplateScanner {
    let chars: [Character]
    var i = 0
    var line = 0
    var column = 0
    var tags: [MessageTemplate.Tag] = []
    var problems: [MessageTemplate.Problem] = []

    init(_ chars: [Character]) { self.chars = chars }

    private mutating func advance(to end: Int) {
        while i < end {
            if chars[i] == "\n" {
                line += 1
                column = 0
            } else {
                column += 1
            }
            i += 1
        }
    }

    private func find(_ close: [Character], from start: Int) -> Int? {
        var k = start
        while k + close.count <= chars.count {
            if Array(chars[k..<(k + close.count)]) == close { return k }
            k += 1
        }
        return nil
    }

    mutating func run() -> [MessageTemplate.Part] {
        typealias Open = (name: String, inverted: Bool, parts: [MessageTemplate.Part], line: Int, column: Int)
        var stack: [Open] = []
        var parts: [MessageTemplate.Part] = []
        var text = ""
        func flush() {
            if !text.isEmpty { parts.append(.text(text)) }
            text = ""
        }
        while i < chars.count {
            guard chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" else {
                text.append(chars[i])
                advance(to: i + 1)
                continue
            }
            let triple = i + 2 < chars.count && chars[i + 2] == "{"
            let open = triple ? 3 : 2
            let (l, c) = (line, column)
            guard let close = find(Array(repeating: "}", count: open), from: i + open) else {
                problems.append(.init(message: "unclosed tag '\(triple ? "{{{" : "{{")'", line: l, column: c))
                text += String(chars[i...])
                advance(to: chars.count)
                break
            }
            let inner = String(chars[(i + open)..<close]).trimmingSpaces
            let length = close + open - i
            advance(to: close + open)
            flush()
            func problem(_ m: String) { problems.append(.init(message: m, line: l, column: c)) }
            func ref(_ raw: String) -> String? {
                let name = raw.trimmingSpaces
                guard !name.isEmpty else {
                    problem("empty template tag")
                    return nil
                }
                if name == "." && stack.isEmpty { problem("'{{.}}' is only meaningful inside a section") }
                if name != ".", !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) {
                    problem("'\(name)' is not a field name")
                    return nil
                }
                tags.append(.init(name: name, line: l, column: c, length: length))
                return name
            }
            let kind = inner.first
            let rest = String(inner.dropFirst())
            switch kind {
            case "!": continue
            case ">": problem("partials ('{{> \(rest.trimmingSpaces)}}') are not supported")
            case "=": problem("delimiter changes ('{{=…=}}') are not supported")
            case "#", "^":
                if let name = ref(rest) {
                    stack.append((name, kind == "^", parts, l, c))
                    parts = []
                }
            case "/":
                let name = rest.trimmingSpaces
                guard let top = stack.last else {
                    problem("'{{/\(name)}}' closes a section that was never opened")
                    continue
                }
                if top.name != name { problem("'{{/\(name)}}' does not match the open section '\(top.name)'") }
                stack.removeLast()
                let body = parts
                parts = top.parts
                parts.append(.section(name: top.name, inverted: top.inverted, body: body))
            default:
                let raw = kind == "&" ? rest : inner
                let bar = raw.firstIndex(of: "|")
                let fallback = bar.map { String(raw[raw.index(after: $0)...]).trimmingSpaces }
                if let name = ref(bar.map { String(raw[..<$0]) } ?? raw) {
                    parts.append(.variable(name: name, fallback: fallback, escaped: !triple && kind != "&"))
                }
            }
        }
        flush()
        while let top = stack.popLast() {
            problems.append(.init(message: "section '{{#\(top.name)}}' is never closed", line: top.line, column: top.column))
            let body = parts
            parts = top.parts
            parts.append(.section(name: top.name, inverted: top.inverted, body: body))
        }
        return parts
    }
}
