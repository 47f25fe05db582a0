import HeraldCore
import Testing

@Suite("Diagnostic rendering")
struct DiagnosticTests {
    @Test func shortLinesShowWholeWithCaret() {
        let d = Diagnostic(
            at: SourceLocation(file: "c.yaml", line: 3, column: 9), "bad status", sourceLine: "status: sometimes",
            length: 9, suggestion: "did you mean 'active'?")
        #expect(
            d.description
                == "c.yaml:3:9: error: bad status\nstatus: sometimes\n        ^~~~~~~~~\nnote: did you mean 'active'?")
    }

    @Test func longLinesAreCutAroundTheCaret() {
        let line = String(repeating: "(", count: 10_000) + "x"
        let d = Diagnostic(at: SourceLocation(file: "<e>", line: 1, column: 5_000), "too deep", sourceLine: line)
        let lines = d.description.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines[1].count <= Diagnostic.maxShownLine + 2)
        #expect(lines[1].hasPrefix("…") && lines[1].hasSuffix("…"))
        // The caret still sits under the character it names.
        let caretColumn = lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) }
        #expect(caretColumn == Diagnostic.maxShownLine / 2 + 1)
    }
}

@Suite("JSON string literals")
struct JSONStringTests {
    @Test(arguments: [
        ("plain", "\"plain\""), ("quote \" and \\", "\"quote \\\" and \\\\\""), ("a\nb\tc\r", "\"a\\nb\\tc\\r\""),
        ("\u{01}\u{1F}", "\"\\u0001\\u001f\""), ("退订 ✓", "\"退订 ✓\""),
    ])
    func escapesWhatJSONRequires(input: String, expected: String) {
        #expect(JSONString.quote(input) == expected)
    }
}
