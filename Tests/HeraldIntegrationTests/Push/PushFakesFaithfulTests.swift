import Foundation
import Testing

/// The push-provider fakes the push tests send to are faithful: the reference clients (aioapns, pywebpush,
/// google-auth and firebase-admin, a hand-made JWT-bearer grant) get the documented answer from each of them,
/// success and every error cue alike (Tests/Fixtures/push/check_fakes.py, Tests/Fixtures/push/README.md).
@Suite(.enabled(if: pushFakeSuitesEnabled, "push suites run in their own process (HERALD_PUSH_FAKE_TESTS=1, scripts/test.sh)"))
struct PushFakesFaithfulTests {
    @Test(.disabled(if: pushFakesMissing != nil, "\(pushFakesMissing ?? "")"))
    func referenceClientsGetTheDocumentedAnswers() async throws {
        let (status, output) = try await runToExit(python3, [Fixtures.script("push/check_fakes.py")])
        #expect(status == 0, "\(output.suffix(3000))")
        #expect(output.contains(" 0 failed"), "\(output.suffix(3000))")
    }
}
