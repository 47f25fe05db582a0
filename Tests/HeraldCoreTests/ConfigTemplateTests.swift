import Testing

@testable import HeraldCore

@Suite("Config: Mustache templates")
struct ConfigTemplateTests {
    @Test func extractsVariablesAndSections() {
        let (t, problems) = MessageTemplate.parse(
            "Hi {{first_name|there}}! {{! note }}{{#tags}}[{{.}}]{{/tags}}{{^plan}}no plan{{/plan}} {{{unsubscribe_url}}}")
        #expect(problems.isEmpty)
        #expect(t.variables == ["first_name", "tags", "plan", "unsubscribe_url"])
    }

    @Test(arguments: [
        ([String: Value](), "Hi there!"),
        (["first_name": .string("")], "Hi there!"),
        (["first_name": .string("Ana")], "Hi Ana!"),
    ])
    func fallbackRendersWhenMissingOrEmpty(values: [String: Value], expected: String) {
        let (t, _) = MessageTemplate.parse("Hi {{ first_name | there }}!")
        #expect(t.render { values[$0] } == expected)
    }

    @Test func rendersSectionsListsAndEscaping() {
        let (t, _) = MessageTemplate.parse("{{#tags}}<{{.}}>{{/tags}}{{^plan}}none{{/plan}} {{name}} {{{name}}}")
        let values: [String: Value] = ["tags": .list(["a", "b"]), "name": .string("A&B")]
        #expect(t.render(html: true) { values[$0] } == "<a><b>none A&amp;B A&B")
        #expect(t.render(html: false) { values[$0] } == "<a><b>none A&B A&B")
    }

    @Test(arguments: [
        ("{{> header}}", "partials"),
        ("{{#a}}x", "section '{{#a}}' is never closed"),
        ("x {{/a}}", "never opened"),
        ("{{#a}}x{{/b}}", "does not match"),
        ("Hi {{name", "unclosed tag"),
        ("{{}}", "empty template tag"),
        ("{{=<% %>=}}", "delimiter changes"),
    ])
    func refusesBadTags(text: String, message: String) {
        let (_, problems) = MessageTemplate.parse(text)
        #expect(problems.contains { $0.message.contains(message) }, "\(problems)")
    }

    @Test func tagPositionsAreZeroBasedLineAndColumn() {
        let (t, _) = MessageTemplate.parse("line one\n  {{ x }} and {{y}}")
        #expect(t.tags.map { [$0.line, $0.column, $0.length] } == [[1, 2, 7], [1, 14, 5]])
    }
}
