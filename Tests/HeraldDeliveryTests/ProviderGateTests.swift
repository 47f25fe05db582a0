import HeraldCore
import HeraldDelivery
import Synchronization
import Testing

@Suite struct ProviderGateTests {
    let transient = DeliveryError(.connectionFailed, "refused", isRetryable: true)

    @Test func rateThenQuota() {
        var gate = ProviderGate(bucket: TokenBucket(rate: 2, burst: 2), quota: DailyQuota(limit: 3))
        #expect(gate.admit(now: 0) == .send)
        #expect(gate.admit(now: 0) == .send)
        #expect(gate.admit(now: 0) == .wait(0.5))
        #expect(gate.admit(now: 0.5) == .send)
        #expect(gate.admit(now: 1.0) == .wait(86_400 - 1))  // quota of 3 used up until UTC midnight
    }

    @Test func breakerOpensOnProviderFailuresOnly() {
        var gate = ProviderGate(bucket: TokenBucket(rate: 1000, burst: 1000), breaker: CircuitBreaker(failureThreshold: 2, openFor: 10))
        gate.record(DeliveryError(.httpStatus, "400", isRetryable: false, status: 400), now: 0)
        gate.record(DeliveryError(.httpStatus, "400", isRetryable: false, status: 400), now: 0)
        #expect(gate.admit(now: 0) == .send)
        gate.record(transient, now: 1)
        gate.record(transient, now: 1)
        #expect(gate.admit(now: 2) == .circuitOpen(9))
        #expect(gate.admit(now: 11) == .send)  // the probe
        #expect(gate.admit(now: 11) == .circuitOpen(1))
        gate.record(nil, now: 11)
        #expect(gate.admit(now: 11) == .send)
    }

    @Test func slowDownHalvesTheRate() {
        var gate = ProviderGate(rate: SendRate(parsing: "100/s"), quota: nil)
        gate.record(DeliveryError(.slowDown, "429", isRetryable: true, status: 429), now: 0)
        #expect(gate.bucket.currentRate == 50)
        gate.record(nil, now: 0)
        #expect(gate.bucket.currentRate == 60)
    }

    @Test func configuredQuotaPerDay() {
        let gate = ProviderGate(rate: nil, quota: SendRate(parsing: "50000/day", allowDay: true))
        #expect(gate.quota?.limit == 50_000)
    }
}
