/// Where a piece of text sits in a file: 1-based line and column (columns count characters).
public struct SourceLocation: Sendable, Hashable, Comparable {
    /// The file path as the user named it.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// A location in `file`.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem found in user input, reported as `FILE:LINE:COL: error: MESSAGE`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How bad it is.
    public enum Severity: String, Sendable, Hashable { case error, warning, note }

    /// error, warning or note.
    public var severity: Severity
    /// Where; nil for problems that belong to no position (a missing file, say).
    public var location: SourceLocation?
    /// What is wrong, in one sentence.
    public var message: String
    /// The text of the offending line, shown with a caret under `location.column`.
    public var sourceLine: String?
    /// How many characters the caret marker spans (at least 1).
    public var length: Int
    /// A fix to try, e.g. "did you mean 'lifecycle'?".
    public var suggestion: String?

    /// A diagnostic; `length` is clamped to at least 1.
    public init(
        _ severity: Severity = .error, at location: SourceLocation?, _ message: String,
        sourceLine: String? = nil, length: Int = 1, suggestion: String? = nil
    ) {
        self.severity = severity
        self.location = location
        self.message = message
        self.sourceLine = sourceLine
        self.length = max(1, length)
        self.suggestion = suggestion
    }

    /// The full rendering: header line, then source line and caret line when known, then the suggestion.
    /// Control characters of the input (a bad import row, a value quoted in the message) are shown escaped
    /// (`VisibleText`), the caret still under the character it points at.
    public var description: String {
        var out = ""
        let message = VisibleText.escape(message)
        if let l = location {
            out = "\(VisibleText.escape(l.file)):\(l.line):\(l.column): \(severity.rawValue): \(message)"
        } else {
            out = "\(severity.rawValue): \(message)"
        }
        if let line = sourceLine, let l = location {
            let (raw, rawColumn, rawSpan) = Self.window(line, column: l.column, length: length)
            let (shown, column, span) = Self.escaped(raw, column: rawColumn, span: rawSpan)
            out += "\n" + shown
            let pad = String(repeating: " ", count: max(0, column - 1))
            out += "\n" + pad + "^" + String(repeating: "~", count: span - 1)
        }
        if let s = suggestion { out += "\nnote: \(VisibleText.escape(s))" }
        return out
    }

    /// `line` with its control characters escaped, and the caret's column and span moved to match.
    static func escaped(_ line: String, column: Int, span: Int) -> (String, Int, Int) {
        guard VisibleText.mayHoldControl(line) else { return (line, column, span) }
        var shown = ""
        var newColumn = column
        var newSpan = span
        for (i, c) in line.enumerated() {
            let e = VisibleText.escape(String(c))
            shown += e
            let extra = e.count - 1
            if i < column - 1 { newColumn += extra } else if i < column - 1 + span { newSpan += extra }
        }
        return (shown, newColumn, newSpan)
    }

    /// At most this many characters of a source line are shown; longer lines are cut around the caret.
    public static let maxShownLine = 120

    /// The part of `line` to show, with the caret's column and span inside it: never more than its first line,
    /// control characters shown as U+FFFD (a binary file's bytes never reach the terminal).
    static func window(_ line: String, column: Int, length: Int) -> (String, Int, Int) {
        let chars = Array(Self.printable(line.prefix { !$0.isNewline }))
        let line = String(chars)
        guard chars.count > maxShownLine else { return (line, column, length) }
        let caret = max(0, min(column - 1, chars.count))
        let start = max(0, min(caret - maxShownLine / 2, chars.count - maxShownLine))
        let end = min(chars.count, start + maxShownLine)
        let prefix = start > 0 ? "…" : ""
        let suffix = end < chars.count ? "…" : ""
        let shown = prefix + String(chars[start..<end]) + suffix
        let span = max(1, min(length, end - caret))
        return (shown, caret - start + 1 + prefix.count, span)
    }

    /// True for errors.
    public var isError: Bool { severity == .error }

    /// At most this many characters of a value from a file are quoted in a message.
    public static let maxQuoted = 60

    /// A value from a file as a message quotes it: its first line, control characters replaced, at most
    /// `maxQuoted` characters (then "…").
    public static func excerpt(_ value: some StringProtocol) -> String {
        let first = value.prefix { !$0.isNewline }
        let cut = first.count > maxQuoted || first.endIndex != value.endIndex
        return printable(first.prefix(maxQuoted)) + (cut ? "…" : "")
    }

    /// `text` with control characters other than tab replaced by U+FFFD.
    static func printable(_ text: some StringProtocol) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return String(text) }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { isControl($0) ? "\u{FFFD}" : $0 }))
    }

    private static func isControl(_ u: Unicode.Scalar) -> Bool {
        u != "\t" && (u.value < 0x20 || (0x7F...0x9F).contains(u.value))
    }
}

extension Array where Element == Diagnostic {
    /// True when any element is an error.
    public var hasErrors: Bool { contains { $0.isError } }
}
