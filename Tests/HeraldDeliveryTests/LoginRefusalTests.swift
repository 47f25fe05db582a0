import HeraldCore
import Testing

@testable import HeraldDelivery

/// A refused login (SMTP 535 and its kin, a gateway's 401/403) is the provider's configuration, not a message's
/// fault: it opens the breaker at once and is reported once per episode (docs/ledger.md).
@Suite struct LoginRefusalTests {
    let refused = DeliveryError(.loginDenied, "127.0.0.1:25 refused the SMTP login (535)", isRetryable: false, status: 535)

    @Test func aRefusedLoginOpensTheBreakerAtOnceAndIsReportedOnce() {
        var gate = ProviderGate(
            bucket: TokenBucket(rate: 1000, burst: 1000), breaker: CircuitBreaker(failureThreshold: 5, openFor: 30))
        let first = gate.record(refused, now: 100)
        #expect(first)
        #expect(gate.refusingLogin)
        #expect(gate.breaker.state == .open(until: 100 + gate.loginRefusalOpenFor))
        #expect(gate.admit(now: 101) == .circuitOpen(gate.loginRefusalOpenFor - 1))
        // The same episode: other sends refused at the same time, and the probe refused again.
        let sameTime = gate.record(refused, now: 101)
        #expect(!sameTime)
        #expect(gate.admit(now: 101 + gate.loginRefusalOpenFor) == .send)
        let probe = gate.record(refused, now: 101 + gate.loginRefusalOpenFor)
        #expect(!probe)
        #expect(gate.breaker.state == .open(until: 101 + 2 * gate.loginRefusalOpenFor))
        // Fixed: a success ends the episode; a later refusal is a new one.
        #expect(gate.admit(now: 1_000) == .send)
        let success = gate.record(nil, now: 1_000)
        #expect(!success)
        #expect(!gate.refusingLogin && gate.breaker.state == .closed(failures: 0))
        let nextEpisode = gate.record(refused, now: 2_000)
        #expect(nextEpisode)
    }

    @Test(arguments: [
        (530, "5.7.0 Authentication required", true), (534, "5.7.9 Authentication mechanism is too weak", true),
        (535, "5.7.8 Authentication credentials invalid", true), (454, "4.7.0 Temporary authentication failure", true),
        (454, "TLS not available due to temporary reason", false), (550, "5.1.1 no such user", false),
        (451, "4.3.0 try later", false), (554, "5.7.1 relay denied", false),
    ])
    func smtpRepliesThatBlameTheLogin(_ code: Int, _ text: String, _ auth: Bool) {
        #expect(SMTPServerReply(code: code, text: text).isAuthFailure == auth)
    }
}
