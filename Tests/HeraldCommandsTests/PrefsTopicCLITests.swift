import Foundation
import Testing

/// `herald prefs set --topic` accepts only the topics herald.yaml declares (docs/campaigns.md, "Topics").
@Suite("herald prefs set --topic")
struct PrefsTopicCLITests {
    @Test func anUndeclaredTopicIsRefusedWithASuggestion() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        let r = try h.run(["prefs", "set", "u1", "--topic", "promotons", "--opt-out"])
        #expect(r.status == 64, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("topic 'promotons' is not declared in herald.yaml"), "\(r.stderr)")
        #expect(r.stderr.contains("did you mean 'promotions'?"), "\(r.stderr)")
    }
}
