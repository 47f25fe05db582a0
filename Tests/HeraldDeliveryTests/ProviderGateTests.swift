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

/// Records the waits instead of sleeping; its clock advances by each wait.
final class SleepLog: Sendable {
    let waits = Mutex<[Double]>([])
    func sleep(_ seconds: Double) { waits.withLock { $0.append(seconds) } }
    var now: Double { waits.withLock { $0.reduce(0, +) } }
}

@Suite struct DeliveryAttemptsTests {
    @Test func retriesTransientFailuresThenSucceeds() async {
        let log = SleepLog()
        let calls = Mutex(0)
        let attempts = DeliveryAttempts(policy: RetryPolicy(maxAttempts: 5, baseDelay: 2), now: { log.now },
                                        sleep: { log.sleep($0) }, jitter: { 0.5 })
        let result = await attempts.run(gate: GateBox(ProviderGate(bucket: TokenBucket(rate: 1000, burst: 1000)))) { () async throws -> Int in
            let n = calls.withLock { $0 += 1; return $0 }
            if n < 3 { throw DeliveryError(.timedOut, "slow", isRetryable: true) }
            return n
        }
        #expect((try? result.get()) == 3)
        #expect(log.waits.withLock { $0 } == [1, 2])  // half of 2, half of 4
    }

    @Test func permanentFailureIsDeadAtOnceAndLastAttemptIsDead() async {
        let log = SleepLog()
        let attempts = DeliveryAttempts(policy: RetryPolicy(maxAttempts: 3), now: { log.now }, sleep: { log.sleep($0) }, jitter: { 0 })
        let gate = GateBox(ProviderGate(bucket: TokenBucket(rate: 1000, burst: 1000)))
        let permanent = await attempts.run(gate: gate) { () async throws -> Int in
            throw DeliveryError(.httpStatus, "400", isRetryable: false, status: 400)
        }
        guard case .failure(let first) = permanent else {
            Issue.record("expected a failure")
            return
        }
        #expect(first.status == 400)
        #expect(log.waits.withLock { $0 }.isEmpty)
        let calls = Mutex(0)
        let dead = await attempts.run(gate: gate) { () async throws -> Int in
            calls.withLock { $0 += 1 }
            throw DeliveryError(.slowDown, "503", isRetryable: true, status: 503, retryAfter: 30)
        }
        #expect(calls.withLock { $0 } == 3)
        #expect(log.waits.withLock { $0 } == [30, 30])  // Retry-After honoured between the 3 attempts
        guard case .failure(let error) = dead else { return }
        #expect(!error.isRetryable)
    }
}
