import HeraldDelivery
import Testing

/// A deterministic random source (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RetryPolicyTests {
    let transient = DeliveryError(.connectionFailed, "refused", isRetryable: true)
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: 2, maxDelay: 60)

    @Test(arguments: [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (100, 60.0)])
    func capDoublesUpToTheMaximum(attempt: Int, cap: Double) {
        #expect(RetryPolicy(maxAttempts: 200, baseDelay: 2, maxDelay: 60).cap(afterAttempt: attempt) == cap)
    }

    @Test func fullJitterSpansZeroToTheCap() {
        #expect(policy.decide(attempt: 3, error: transient, jitter: 0) == .retry(after: 0))
        #expect(policy.decide(attempt: 3, error: transient, jitter: 0.5) == .retry(after: 4))
        var random = SeededRandom(state: 42)
        var delays: [Double] = []
        for _ in 0..<200 {
            guard case .retry(let after) = policy.decide(attempt: 3, error: transient, random: &random) else {
                Issue.record("expected a retry")
                return
            }
            delays.append(after)
        }
        #expect(delays.allSatisfy { $0 >= 0 && $0 < 8 })
        #expect(delays.min()! < 1 && delays.max()! > 7)
    }

    @Test func permanentErrorsAreDeadAtOnce() {
                let permanent = DeliveryError(.httpStatus, "400", isRetryable: false, status: 400)
        #expect(policy.decide(attempt: 1, error: permanent, jitter: 0) == .dead(permanent))
    }

    @Test func theLastAttemptIsDead() {
                guard case .dead(let error) = policy.decide(attempt: 4, error: transient, jitter: 0) else {
            Issue.record("expected dead")
            return
        }
        #expect(!error.isRetryable)
        #expect(error.message.contains("gave up after 4 attempts"))
    }

    @Test func retryAfterIsAFloor() {
                let slow = DeliveryError(.slowDown, "429", isRetryable: true, status: 429, retryAfter: 30)
        #expect(policy.decide(attempt: 1, error: slow, jitter: 0) == .retry(after: 30))
        let huge = DeliveryError(.slowDown, "429", isRetryable: true, status: 429, retryAfter: 1e9)
        #expect(policy.decide(attempt: 1, error: huge, jitter: 0) == .retry(after: 3600))
    }

    @Test(arguments: [
        ("120", 120.0), (" 7 ", 7.0), ("Sun, 06 Nov 1994 08:49:37 GMT", 100.0),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 100.0), ("Sun, 06 Nov 1994 08:47:00 GMT", 0.0),
    ])
    func retryAfterParsesSecondsAndDates(value: String, expected: Double) {
        // 1994-11-06 08:49:37 UTC is 784111777; "now" is 100 s earlier.
        #expect(RetryAfter.seconds(value, now: 784_111_677) == expected)
    }

    @Test(arguments: ["", "soon", "-5", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"])
    func retryAfterRejectsGarbage(value: String) {
        #expect(RetryAfter.seconds(value, now: 0) == nil)
    }

    @Test func httpStatusClassification() {
        #expect(DeliveryError.forHTTP(status: 204, peer: "p") == nil)
        #expect(DeliveryError.forHTTP(status: 410, peer: "p")?.code == .endpointGone)
        #expect(DeliveryError.forHTTP(status: 410, peer: "p")?.isRetryable == false)
        for status in [429, 502, 503, 504] {
            #expect(DeliveryError.forHTTP(status: status, peer: "p")?.code == .slowDown)
            #expect(DeliveryError.forHTTP(status: status, peer: "p")?.isRetryable == true)
        }
        #expect(DeliveryError.forHTTP(status: 500, peer: "p")?.isRetryable == true)
        #expect(DeliveryError.forHTTP(status: 400, peer: "p")?.isRetryable == false)
        #expect(DeliveryError.forHTTP(status: 301, peer: "p")?.isRetryable == false)
    }
}
