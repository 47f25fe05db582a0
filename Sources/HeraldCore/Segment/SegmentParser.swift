// Recursive-descent parser for the segment language.
// Precedence, loosest first: or < and < not < comparison (== != < <= > >= in contains)
// < + - < * / < unary minus. Comparisons do not chain. Nesting is limited to `maxDepth`.

/// An untyped syntax tree node.
final class Syntax: Sendable {
    /// The node's shape.
    enum Kind: Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case duration(Int64)
        case list([Syntax])
        case ident(String)
        /// name, name span, arguments
        case call(String, SegSpan, [Syntax])
        /// "-" or "not"
        case unary(String, Syntax)
        /// arithmetic or comparison operator
        case binary(String, Syntax, Syntax)
        case and([Syntax])
        case or([Syntax])
    }

    let kind: Kind
    let span: SegSpan
    /// The operator token's span for unary and binary nodes (else the node span).
    let opSpan: SegSpan
    /// Height of the tree below and including this node.
    let depth: Int

    init(_ kind: Kind, _ span: SegSpan, opSpan: SegSpan? = nil, children: [Syntax] = []) {
        self.kind = kind
        self.span = span
        self.opSpan = opSpan ?? span
        self.depth = 1 + (children.map(\.depth).max() ?? 0)
    }
}

/// Parses tokens into a `Syntax` tree; stops at the first syntax error.
struct SegmentParser {
    /// The deepest nesting accepted; deeper input is an error, never a stack overflow.
    static let maxDepth = 128

    private let toks: [Token]
    private var p = 0
    private var level = 0

    init(_ tokens: [Token]) { toks = tokens }

    /// Lexes and parses `text`.
    static func parse(_ text: String) -> Result<Syntax, SegmentError> {
        var lexer = SegmentLexer(text)
        switch lexer.tokenize() {
        case .failure(let e): return .failure(e)
        case .success(let toks):
            var parser = SegmentParser(toks)
            do {
                let tree = try parser.parseExpr()
                if parser.cur.kind != .eof {
                    throw SegmentError("unexpected \(describe(parser.cur.kind)) after the end of the expression", parser.cur.span,
                        suggestion: "join conditions with 'and' or 'or'")
                }
                return .success(tree)
            } catch let e as SegmentError {
                return .failure(e)
            } catch {
                return .failure(SegmentError("\(error)", toks[0].span))
            }
        }
    }

    static func describe(_ k: TokKind) -> String {
        switch k {
        case .number(let v): "number \(v)"
        case .string(let s): "string \"\(s)\""
        case .duration: "duration"
        case .ident(let s): "'\(s)'"
        case .keyword(let s): "'\(s)'"
        case .op(let s): "'\(s)'"
        case .eof: "end of expression"
        }
    }

    private var cur: Token { toks[p] }

    private func isOp(_ s: String) -> Bool { cur.kind == .op(s) }
    private func isKeyword(_ s: String) -> Bool { cur.kind == .keyword(s) }

    private mutating func take() -> Token {
        let t = toks[p]
        if p < toks.count - 1 { p += 1 }
        return t
    }

    private mutating func expectOp(_ s: String, _ context: String) throws -> Token {
        guard isOp(s) else {
            throw SegmentError("expected '\(s)' \(context), found \(Self.describe(cur.kind))", cur.span)
        }
        return take()
    }

    private mutating func enter() throws {
        level += 1
        if level > Self.maxDepth {
            throw SegmentError("expression is nested too deeply (more than \(Self.maxDepth) levels)", cur.span)
        }
    }

    private func checked(_ n: Syntax) throws -> Syntax {
        if n.depth > Self.maxDepth {
            throw SegmentError("expression is nested too deeply (more than \(Self.maxDepth) levels)", n.opSpan)
        }
        return n
    }

    mutating func parseExpr() throws -> Syntax {
        try enter()
        defer { level -= 1 }
        return try parseOr()
    }

    private mutating func parseOr() throws -> Syntax {
        var parts = [try parseAnd()]
        while isKeyword("or") {
            _ = take()
            parts.append(try parseAnd())
        }
        if parts.count == 1 { return parts[0] }
        return try checked(Syntax(.or(parts), parts[0].span.to(parts[parts.count - 1].span), children: parts))
    }

    private mutating func parseAnd() throws -> Syntax {
        var parts = [try parseNot()]
        while isKeyword("and") {
            _ = take()
            parts.append(try parseNot())
        }
        if parts.count == 1 { return parts[0] }
        return try checked(Syntax(.and(parts), parts[0].span.to(parts[parts.count - 1].span), children: parts))
    }

    private mutating func parseNot() throws -> Syntax {
        guard isKeyword("not") else { return try parseComparison() }
        let t = take()
        try enter()
        defer { level -= 1 }
        let operand = try parseNot()
        return try checked(Syntax(.unary("not", operand), t.span.to(operand.span), opSpan: t.span, children: [operand]))
    }

    private static let comparisonOps: Set<String> = ["==", "!=", "<", "<=", ">", ">="]

    private func comparisonOp() -> String? {
        switch cur.kind {
        case .op(let s) where Self.comparisonOps.contains(s): s
        case .keyword("in"): "in"
        case .keyword("contains"): "contains"
        default: nil
        }
    }

    private mutating func parseComparison() throws -> Syntax {
        let lhs = try parseAdditive()
        // `x not in list` is `not (x in list)`.
        if isKeyword("not"), p + 1 < toks.count, toks[p + 1].kind == .keyword("in") {
            let notTok = take()
            let opSpan = notTok.span.to(take().span)
            let rhs = try parseAdditive()
            let inNode = try checked(Syntax(.binary("in", lhs, rhs), lhs.span.to(rhs.span), opSpan: opSpan, children: [lhs, rhs]))
            return try checked(Syntax(.unary("not", inNode), inNode.span, opSpan: notTok.span, children: [inNode]))
        }
        guard let op = comparisonOp() else { return lhs }
        let opTok = take()
        if isKeyword("not") {
            throw SegmentError("'not' cannot follow '\(op)'", cur.span, suggestion: "write 'not (a \(op) b)'")
        }
        let rhs = try parseAdditive()
        if let again = comparisonOp() {
            throw SegmentError("comparisons cannot be chained ('\(op)' then '\(again)')", cur.span,
                suggestion: "join the two comparisons with 'and'")
        }
        return try checked(Syntax(.binary(op, lhs, rhs), lhs.span.to(rhs.span), opSpan: opTok.span, children: [lhs, rhs]))
    }

    private mutating func parseAdditive() throws -> Syntax {
        var lhs = try parseMultiplicative()
        while isOp("+") || isOp("-") {
            let t = take()
            guard case .op(let op) = t.kind else { break }
            let rhs = try parseMultiplicative()
            lhs = try checked(Syntax(.binary(op, lhs, rhs), lhs.span.to(rhs.span), opSpan: t.span, children: [lhs, rhs]))
        }
        return lhs
    }

    private mutating func parseMultiplicative() throws -> Syntax {
        var lhs = try parseUnary()
        while isOp("*") || isOp("/") {
            let t = take()
            guard case .op(let op) = t.kind else { break }
            let rhs = try parseUnary()
            lhs = try checked(Syntax(.binary(op, lhs, rhs), lhs.span.to(rhs.span), opSpan: t.span, children: [lhs, rhs]))
        }
        return lhs
    }

    private mutating func parseUnary() throws -> Syntax {
        guard isOp("-") else { return try parsePrimary() }
        let t = take()
        try enter()
        defer { level -= 1 }
        let operand = try parseUnary()
        return try checked(Syntax(.unary("-", operand), t.span.to(operand.span), opSpan: t.span, children: [operand]))
    }

    private mutating func parsePrimary() throws -> Syntax {
        let t = cur
        switch t.kind {
        case .number(let v):
            _ = take()
            return Syntax(.number(v), t.span)
        case .string(let s):
            _ = take()
            return Syntax(.string(s), t.span)
        case .duration(let d):
            _ = take()
            return Syntax(.duration(d), t.span)
        case .keyword("true"), .keyword("false"):
            _ = take()
            return Syntax(.bool(t.kind == .keyword("true")), t.span)
        case .ident(let name):
            _ = take()
            guard isOp("(") else { return Syntax(.ident(name), t.span) }
            _ = take()
            var args: [Syntax] = []
            if !isOp(")") {
                args.append(try parseExpr())
                while isOp(",") {
                    _ = take()
                    args.append(try parseExpr())
                }
            }
            let close = try expectOp(")", "to close the arguments of \(name)(")
            return try checked(Syntax(.call(name, t.span, args), t.span.to(close.span), children: args))
        case .op("("):
            _ = take()
            let inner = try parseExpr()
            _ = try expectOp(")", "to close '('")
            return inner
        case .op("["):
            _ = take()
            var items: [Syntax] = []
            if !isOp("]") {
                items.append(try parseExpr())
                while isOp(",") {
                    _ = take()
                    items.append(try parseExpr())
                }
            }
            let close = try expectOp("]", "to close the list")
            return try checked(Syntax(.list(items), t.span.to(close.span), children: items))
        case .eof:
            throw SegmentError("expected a value, found the end of the expression", t.span)
        default:
            throw SegmentError("expected a value, found \(Self.describe(t.kind))", t.span)
        }
    }
}
