import Testing

@testable import HeraldCore

@Suite("Segment lexer and parser")
struct SegmentParserTests {
    @Test(
        "precedence and associativity",
        arguments: [
            ("avg_order_value + 2 * 3 > 10", "(> (+ avg_order_value (* 2 3)) 10)"),
            ("-avg_order_value * 2 < 1", "(< (* (- avg_order_value) 2) 1)"),
            ("10 - 2 - 3 == 5", "(== (- (- 10 2) 3) 5)"),
            ("8 / 2 / 2 == 2", "(== (/ (/ 8 2) 2) 2)"),
            ("(1 + 2) * 3 == 9", "(== (* (+ 1 2) 3) 9)"),
            (
                "country == \"CN\" or plan == \"pro\" and not newsletter",
                "(or (== country \"CN\") (and (== plan \"pro\") (not newsletter)))"
            ),
            ("not country == \"CN\"", "(not (== country \"CN\"))"),
            ("not not newsletter", "(not (not newsletter))"),
            (
                "(country == \"CN\" or plan == \"x\") and newsletter",
                "(and (or (== country \"CN\") (== plan \"x\")) newsletter)"
            ),
            ("newsletter and newsletter and newsletter", "(and newsletter newsletter newsletter)"),
            ("country in [\"CN\", \"HK\"]", "(in country [\"CN\" \"HK\"])"),
            ("avg_order_value in [1, -2.5]", "(in avg_order_value [1 -2.5])"),
            ("tags contains \"vip\"", "(in \"vip\" tags)"),
            ("country not in [\"CN\"] and newsletter", "(and (not (in country [\"CN\"])) newsletter)"),
            ("first_name contains \"an\"", "(substr first_name \"an\")"),
            ("count(purchase, 30d) >= 2", "(>= (count purchase 30d) 2)"),
            ("count(\"purchase\", 30d) >= 2", "(>= (count purchase 30d) 2)"),
            ("sum(purchase, amount, 1d12h) > 2", "(> (sum purchase amount 1d12h) 2)"),
            ("avg(\"order\", \"total\", 2w) > 2", "(> (avg order total 14d) 2)"),
            ("created_at < now - 45s", "(< created_at (- now 45s))"),
            ("now - created_at > 15m", "(> (- now created_at) 15m)"),
            ("last_seen_at >= date(\"2026-01-31\")", "(>= last_seen_at 2026-01-31T00:00:00Z)"),
            ("days_since(last(purchase)) > 3", "(> (days_since (last purchase)) 3)"),
            ("is_birthday() or engagement() > 0.5", "(or (is_birthday) (> (engagement) 0.5))"),
            ("lifecycle == \"new\" and rfm_r >= 4", "(and (== lifecycle \"new\") (>= rfm_r 4))"),
            ("email == \"a\\\"b\"", "(== email \"a\"b\")"),
        ])
    func precedence(_ text: String, _ expected: String) {
        let seg = SegFixture.compile(text)
        #expect(seg?.treeDescription == expected)
    }

    @Test(
        "lexical and syntax errors point at the right column",
        arguments: [
            ("country = \"CN\"", "unexpected '='", 9, "write '==' to compare"),
            ("country == \"CN", "unterminated string", 12, nil),
            ("count(purchase, 30x) > 1", "invalid number or duration '30x'", 17, "durations are written like 30d, 12h, 15m, 45s, 2w or 1d12h"),
            ("newsletter && newsletter", "unexpected '&&'", 12, "write 'and'"),
            ("country ==", "expected a value, found the end of the expression", 11, nil),
            ("(country == \"CN\"", "expected ')' to close '(', found end of expression", 17, nil),
            ("1 < 2 < 3", "comparisons cannot be chained ('<' then '<')", 7, "join the two comparisons with 'and'"),
            ("newsletter newsletter", "unexpected 'newsletter' after the end of the expression", 12, "join conditions with 'and' or 'or'"),
            ("country == 'CN'", "unexpected \"'\"", 12, "strings use double quotes"),
            ("email == \"a\\qb\"", "unknown escape '\\q' in string", 12, "use \\\" \\\\ \\n or \\t"),
            ("a == # b", "unexpected character '#'", 6, nil),
        ] as [(String, String, Int, String?)])
    func syntaxErrors(_ text: String, _ message: String, _ column: Int, _ suggestion: String?) {
        let diags = SegFixture.errors(text)
        #expect(diags.count == 1)
        #expect(diags.first?.message == message)
        #expect(diags.first?.location?.column == column)
        #expect(diags.first?.suggestion == suggestion)
    }

    @Test(
        "10,000-deep nesting is a clean error",
        arguments: [
            String(repeating: "(", count: 10_000) + "true" + String(repeating: ")", count: 10_000),
            String(repeating: "not ", count: 10_000) + "true",
            String(repeating: "-", count: 10_000) + "1 > 0",
            String(repeating: "[", count: 10_000),
            String(repeating: "days_since(", count: 10_000) + "now" + String(repeating: ")", count: 10_000),
            (0..<10_000).map { _ in "1" }.joined(separator: " + ") + " > 0",
            String(repeating: "(", count: 10_000),
        ])
    func deepNesting(_ text: String) {
        let diags = SegFixture.errors(text)
        #expect(diags.count == 1)
        #expect(diags.first?.message.contains("nested too deeply") == true)
    }

    @Test func longFlatChainsAreFine() {
        let text = Array(repeating: "newsletter", count: 10_000).joined(separator: " or ")
        guard let seg = SegFixture.compile(text) else { return }
        let yes = SegFixture.user("y", attributes: ["newsletter": .bool(true)])
        let no = SegFixture.user("n")
        #expect(SegFixture.both(seg, [yes, no]) == [true, false])
    }

    @Test func nestingUpToTheLimitCompilesAndEvaluates() {
        let k = SegmentParser.maxDepth - 1
        let parens = String(repeating: "(", count: k) + "newsletter" + String(repeating: ")", count: k)
        let nots = String(repeating: "not ", count: k) + "newsletter"
        let minus = String(repeating: "-", count: k - 1) + "avg_order_value < 0"
        let yes = SegFixture.user("y", attributes: ["newsletter": .bool(true), "avg_order_value": .number(2)])
        if let seg = SegFixture.compile(parens) { #expect(SegFixture.both(seg, [yes]) == [true]) }
        if let seg = SegFixture.compile(nots) { #expect(SegFixture.both(seg, [yes]) == [k % 2 == 0]) }
        if let seg = SegFixture.compile(minus) { #expect(SegFixture.both(seg, [yes]) == [(k - 1) % 2 == 1]) }
        let over = String(repeating: "(", count: k + 1) + "newsletter" + String(repeating: ")", count: k + 1)
        #expect(SegFixture.errors(over).first?.message.contains("nested too deeply") == true)
    }

    @Test func moderateNestingCompiles() {
        let text = String(repeating: "(", count: 60) + "newsletter" + String(repeating: ")", count: 60)
            + " and " + String(repeating: "not ", count: 60) + "newsletter"
        #expect(SegFixture.compile(text) != nil)
    }

    @Test("durations", arguments: [("30d", 30 * 86_400), ("12h", 43_200), ("15m", 900), ("45s", 45), ("2w", 1_209_600), ("1d12h", 129_600)] as [(String, Int64)])
    func durations(_ text: String, _ seconds: Int64) {
        var lexer = SegmentLexer(text)
        guard case .success(let toks) = lexer.tokenize() else {
            Issue.record("\(text) did not lex")
            return
        }
        #expect(toks.first?.kind == .duration(seconds))
        #expect(toks.count == 2)
    }

    @Test func tokenPositionsSpanLines() {
        var lexer = SegmentLexer("a ==\n  \"x\"")
        guard case .success(let toks) = lexer.tokenize() else {
            Issue.record("did not lex")
            return
        }
        #expect(toks.map(\.span.start) == [SegPos(line: 1, col: 1), SegPos(line: 1, col: 3), SegPos(line: 2, col: 3), SegPos(line: 2, col: 6)])
        #expect(toks[2].span.end == SegPos(line: 2, col: 6))
    }
}
