import Testing

@testable import HeraldCore

@Suite("Segment diagnostics")
struct SegmentDiagnosticTests {
    @Test func typeErrorRendersWithFileLineColumnAndCaret() {
        let origin = SourceOrigin(file: "herald.yaml", line: 40, column: 8, continuationColumn: 5)
        let diags = SegFixture.errors("country == 3", origin: origin)
        #expect(diags.count == 1)
        let expected = """
            herald.yaml:40:16: error: cannot compare string with number using '=='
                   country == 3
                           ^~
            """
        #expect(diags.first?.description == expected)
    }

    @Test func laterLinesUseTheContinuationColumn() {
        let origin = SourceOrigin(file: "campaigns/a.yaml", line: 10, column: 12, continuationColumn: 7)
        let diags = SegFixture.errors("country == \"CN\"\nand contry == \"HK\"", origin: origin)
        #expect(diags.count == 1)
        let d = diags[0]
        #expect(d.location == HeraldCore.SourceLocation(file: "campaigns/a.yaml", line: 11, column: 11))
        #expect(d.message == "unknown field 'contry'")
        #expect(d.sourceLine == "      and contry == \"HK\"")
        #expect(d.length == 6)
        #expect(d.suggestion == "did you mean 'country'?")
        #expect(
            d.description == """
                campaigns/a.yaml:11:11: error: unknown field 'contry'
                      and contry == "HK"
                          ^~~~~~
                note: did you mean 'country'?
                """)
    }

    @Test func severalIndependentErrorsAreAllReported() {
        let diags = SegFixture.errors("contry == \"CN\" and avg_order_vlaue > 3 and plan > 2")
        #expect(diags.map(\.message) == [
            "unknown field 'contry'", "unknown field 'avg_order_vlaue'", "cannot compare string with number using '>'",
        ])
        #expect(diags.map { $0.location?.column ?? 0 } == [1, 20, 49])
        #expect(diags.map(\.suggestion) == ["did you mean 'country'?", "did you mean 'avg_order_value'?", nil])
    }

    @Test(
        "type errors",
        arguments: [
            ("avg_order_value + 1", "a segment must be a condition (bool), but this is a number", 1, 19),
            ("count(purchase, 30) > 1", "the window must be a duration literal such as 30d", 17, 2),
            ("count(purchase) > 1", "count takes 2 arguments, got 1", 1, 15),
            ("created_at > date(\"2026-02-30\")", "invalid date \"2026-02-30\"", 19, 12),
            ("now - created_at > 30", "cannot compare duration with number using '>'", 18, 1),
            ("created_at < now - 30", "operator '-' cannot be applied to timestamp and number", 18, 1),
            ("tags in [\"a\"]", "'in' needs a value and a list of the same type, but got list of strings in list of strings", 6, 2),
            ("tags == [\"a\"]", "lists cannot be compared with '=='", 6, 2),
            ("plan not in [1]", "'in' needs a value and a list of the same type, but got string in list of numbers", 6, 6),
            ("not avg_order_value", "'not' needs a bool, but this is a number", 5, 15),
            ("newsletter < true", "bools can only be compared with == and !=", 12, 1),
            ("-country == 1", "unary '-' needs a number or a duration, but this is a string", 2, 7),
            ("is_birthday", "'is_birthday' is a function", 1, 11),
            ("country() == 1", "'country' is a field, not a function", 1, 7),
            ("newsletter and 3", "'and' needs bool operands, but this is a number", 16, 1),
            ("[\"a\", 1] contains \"a\"", "a list must hold only strings or only numbers", 1, 8),
            ("days_since(country) > 1", "days_since needs a timestamp, but this is a string", 12, 7),
        ])
    func typeErrors(_ text: String, _ message: String, _ column: Int, _ length: Int) {
        let diags = SegFixture.errors(text)
        #expect(diags.map(\.message) == [message])
        #expect(diags.first?.location?.column == column)
        #expect(diags.first?.length == length)
    }

    @Test(
        "near-miss suggestions",
        arguments: [
            ("lifecyle == \"new\"", "did you mean 'lifecycle'?"),
            ("cout(purchase, 30d) > 1", "did you mean 'count'?"),
            ("rfm_mm > 1", "did you mean 'rfm_m'?"),
            ("created > now", "did you mean 'created_at'?"),
            ("is_bithday()", "did you mean 'is_birthday'?"),
        ])
    func nearMiss(_ text: String, _ suggestion: String) {
        // Unknown functions add the list of functions after the near miss.
        #expect(SegFixture.errors(text).first?.suggestion?.hasPrefix(suggestion) == true)
    }

    @Test func unknownSegmentSuggestsANamedOne() {
        let (catalog, diags) = SegmentCompiler.catalog(
            [SegmentSource(name: "vip", text: "rfm_m >= 4", origin: SourceOrigin(file: "herald.yaml"))],
            schema: SegFixture.schema)
        #expect(diags.isEmpty)
        let errs = SegFixture.errors("in_segment(\"vpi\")", catalog: catalog)
        #expect(errs.map(\.message) == ["unknown segment 'vpi'"])
        #expect(errs.first?.suggestion == "did you mean 'vip'?")
        #expect(errs.first?.location?.column == 12)
        #expect(errs.first?.length == 5)
    }

    @Test(
        "lifecycle literals must name a stage",
        arguments: [
            ("lifecycle == \"retuning\"", "lifecycle is never \"retuning\"", 1, 23, "did you mean 'returning'?"),
            ("\"activ\" != lifecycle", "lifecycle is never \"activ\"", 1, 20, "did you mean 'active'?"),
            ("lifecycle in [\"new\", \"dormnt\"]", "lifecycle is never \"dormnt\"", 14, 17, "did you mean 'dormant'?"),
        ])
    func lifecycleLiterals(_ text: String, _ message: String, _ column: Int, _ length: Int, _ suggestion: String) {
        let diags = SegFixture.errors(text)
        #expect(diags.map(\.message) == [message])
        #expect(diags.first?.location?.column == column)
        #expect(diags.first?.length == length)
        #expect(diags.first?.suggestion == suggestion)
    }

    @Test func unknownNamesAreFineForEventsAndProperties() {
        #expect(SegFixture.compile("sum(anything_at_all, whatever, 3d) >= 0 and count(\"x y\", 1s) == 0") != nil)
    }

    /// An unknown function names the nearest one when there is one, and always lists every function.
    @Test(arguments: [("coutn(purchase, 30d) > 1", "did you mean 'count'? "), ("bday()", "")])
    func unknownFunctionsListTheAvailableOnes(_ text: String, _ nearest: String) {
        let diags = SegFixture.errors(text)
        #expect(diags.count == 1)
        let all =
            "functions: days_since(timestamp), count(event, window), sum(event, property, window), "
            + "avg(event, property, window), last(event), first(event), in_segment(name), is_birthday(), "
            + "engagement(), date(\"YYYY-MM-DD\"), received(\"campaign-id\", window)"
        #expect(diags.first?.suggestion == nearest + all)
    }
}
