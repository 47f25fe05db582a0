// Tokens of the segment language. Positions are 1-based (line, column) inside the expression text;
// columns count Characters. `SegmentDiagnostics` maps them into the file through `SourceOrigin`.

/// A position inside an expression: 1-based line and column.
struct SegPos: Hashable, Sendable, Comparable {
    var line: Int
    var col: Int

    static func < (a: SegPos, b: SegPos) -> Bool { (a.line, a.col) < (b.line, b.col) }
}

/// A half-open range of expression text.
struct SegSpan: Hashable, Sendable {
    var start: SegPos
    var end: SegPos

    /// The span covering both.
    func to(_ other: SegSpan) -> SegSpan { SegSpan(start: start, end: other.end) }
}

/// What a token is.
enum TokKind: Equatable, Sendable {
    case number(Double)
    case string(String)
    case duration(Int64)
    case ident(String)
    /// and or not in contains true false
    case keyword(String)
    /// ( ) [ ] , + - * / == != < <= > >=
    case op(String)
    case eof
}

/// One token.
struct Token: Sendable {
    var kind: TokKind
    var span: SegSpan
}

/// Splits expression text into tokens; stops at the first lexical error.
struct SegmentLexer {
    static let keywords: Set<String> = ["and", "or", "not", "in", "contains", "true", "false"]

    private let chars: [Character]
    private var i = 0
    private var line = 1
    private var col = 1

    init(_ text: String) { chars = Array(text) }

    private var pos: SegPos { SegPos(line: line, col: col) }

    private func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func advance() {
        if chars[i].isNewline {
            line += 1
            col = 1
        } else {
            col += 1
        }
        i += 1
    }

    /// The tokens, or the first error as (message, span).
    mutating func tokenize() -> Result<[Token], SegmentError> {
        var out: [Token] = []
        while true {
            while let c = peek(), c.isWhitespace { advance() }
            let start = pos
            guard let c = peek() else {
                out.append(Token(kind: .eof, span: SegSpan(start: start, end: start)))
                return .success(out)
            }
            let kind: TokKind
            if c.isASCII && (c.isLetter || c == "_") {
                var s = ""
                while let d = peek(), d.isASCII && (d.isLetter || d.isNumber || d == "_") {
                    s.append(d)
                    advance()
                }
                kind = Self.keywords.contains(s) ? .keyword(s) : .ident(s)
            } else if c.isASCII && c.isNumber {
                switch lexNumber(start) {
                case .success(let k): kind = k
                case .failure(let e): return .failure(e)
                }
            } else if c == "\"" {
                switch lexString(start) {
                case .success(let k): kind = k
                case .failure(let e): return .failure(e)
                }
            } else {
                switch lexOperator(c, start) {
                case .success(let k): kind = k
                case .failure(let e): return .failure(e)
                }
            }
            out.append(Token(kind: kind, span: SegSpan(start: start, end: pos)))
        }
    }

    private mutating func lexNumber(_ start: SegPos) -> Result<TokKind, SegmentError> {
        var digits = ""
        var sawDot = false
        while let d = peek(), d.isASCII && d.isNumber {
            digits.append(d)
            advance()
        }
        if peek() == ".", let n = peek(1), n.isASCII && n.isNumber {
            sawDot = true
            digits.append(".")
            advance()
            while let d = peek(), d.isASCII && d.isNumber {
                digits.append(d)
                advance()
            }
        }
        if let d = peek(), d.isASCII && (d.isLetter || d == "_") {
            var text = digits
            while let e = peek(), e.isASCII && (e.isLetter || e.isNumber || e == "_") {
                text.append(e)
                advance()
            }
            if !sawDot, let secs = DurationSpec.seconds(text) { return .success(.duration(secs)) }
            return .failure(
                SegmentError(
                    "invalid number or duration '\(text)'", SegSpan(start: start, end: pos),
                    suggestion: "durations are written like 30d, 12h, 15m, 45s, 2w or 1d12h"))
        }
        guard let v = Double(digits), v.isFinite else {
            return .failure(SegmentError("number '\(digits)' is out of range", SegSpan(start: start, end: pos)))
        }
        return .success(.number(v))
    }

    private mutating func lexString(_ start: SegPos) -> Result<TokKind, SegmentError> {
        advance()
        var s = ""
        while true {
            guard let c = peek(), !c.isNewline else {
                return .failure(SegmentError("unterminated string", SegSpan(start: start, end: pos)))
            }
            advance()
            if c == "\"" { return .success(.string(s)) }
            if c == "\\" {
                let escStart = SegPos(line: line, col: col - 1)
                guard let e = peek(), !e.isNewline else {
                    return .failure(SegmentError("unterminated string", SegSpan(start: start, end: pos)))
                }
                advance()
                switch e {
                case "\"": s.append("\"")
                case "\\": s.append("\\")
                case "n": s.append("\n")
                case "t": s.append("\t")
                default:
                    return .failure(
                        SegmentError(
                            "unknown escape '\\\(e)' in string", SegSpan(start: escStart, end: pos),
                            suggestion: "use \\\" \\\\ \\n or \\t"))
                }
            } else {
                s.append(c)
            }
        }
    }

    private mutating func lexOperator(_ c: Character, _ start: SegPos) -> Result<TokKind, SegmentError> {
        let two: String? = peek(1).map { String(c) + String($0) }
        if let t = two, ["==", "!=", "<=", ">="].contains(t) {
            advance()
            advance()
            return .success(.op(t))
        }
        if let t = two, t == "&&" || t == "||" {
            advance()
            advance()
            return .failure(
                SegmentError(
                    "unexpected '\(t)'", SegSpan(start: start, end: pos),
                    suggestion: "write '\(t == "&&" ? "and" : "or")'"))
        }
        advance()
        switch c {
        case "(", ")", "[", "]", ",", "+", "-", "*", "/", "<", ">": return .success(.op(String(c)))
        case "=":
            return .failure(SegmentError("unexpected '='", SegSpan(start: start, end: pos), suggestion: "write '==' to compare"))
        case "!":
            return .failure(SegmentError("unexpected '!'", SegSpan(start: start, end: pos), suggestion: "write 'not'"))
        case "'":
            return .failure(
                SegmentError("unexpected \"'\"", SegSpan(start: start, end: pos), suggestion: "strings use double quotes"))
        default:
            return .failure(SegmentError("unexpected character '\(c)'", SegSpan(start: start, end: pos)))
        }
    }
}

/// A problem found in a segment expression, before it is mapped into the file.
struct SegmentError: Error, Sendable {
    var message: String
    var span: SegSpan
    var suggestion: String?

    init(_ message: String, _ span: SegSpan, suggestion: String? = nil) {
        self.message = message
        self.span = span
        self.suggestion = suggestion
    }
}
