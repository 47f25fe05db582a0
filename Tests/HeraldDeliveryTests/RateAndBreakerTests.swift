import HeraldCore
import HeraldDelivery
import Testing

@Suite struct TokenBucketTests {
    @Test func burstThenSteadyRate() {
        var bucket = TokenBucket(rate: 10, burst: 3)
        #expect(bucket.take(now: 0) == 0)
        #expect(bucket.take(now: 0) == 0)
        #expect(bucket.take(now: 0) == 0)
        #expect(abs(bucket.take(now: 0) - 0.1) < 1e-9)
        #expect(bucket.take(now: 0.1) == 0)
        #expect(bucket.take(now: 10) == 0)  // refills to the burst, not beyond
        #expect(bucket.take(now: 10) == 0)
        #expect(bucket.take(now: 10) == 0)
        #expect(bucket.take(now: 10) > 0)
    }

    @Test func configuredRate() {
        var bucket = TokenBucket(SendRate(parsing: "300/m")!)
        #expect(bucket.rate == 5)
        for _ in 0..<5 { #expect(bucket.take(now: 0) == 0) }
        #expect(abs(bucket.take(now: 0) - 0.2) < 1e-9)
    }

    @Test func slowDownHalvesAndRecoveryRestores() {
        var bucket = TokenBucket(rate: 100, burst: 1)
        bucket.slowDown(now: 0)
        #expect(bucket.currentRate == 50)
        bucket.slowDown(now: 0)
        #expect(bucket.currentRate == 25)
        for _ in 0..<20 { bucket.recover() }
        #expect(bucket.currentRate == 100)
        for _ in 0..<20 { bucket.slowDown(now: 0) }
        #expect(bucket.currentRate == 100.0 / 64)
    }

    @Test func clockGoingBackwardsDoesNotMintTokens() {
        var bucket = TokenBucket(rate: 1, burst: 1)
        #expect(bucket.take(now: 100) == 0)
        #expect(bucket.take(now: 50) > 0)
    }
}

@Suite struct DailyQuotaTests {
    @Test func resetsAtUTCMidnight() {
        var quota = DailyQuota(limit: 2)
        let morning = 86_400.0 * 20_000 + 3600
        #expect(quota.take(now: morning) == 0)
        #expect(quota.take(now: morning) == 0)
        #expect(quota.take(now: morning) == 86_400 - 3600)
        #expect(quota.take(now: morning + 82_800) == 0)
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterThresholdThenProbes() {
        var breaker = CircuitBreaker(failureThreshold: 3, openFor: 30)
        for _ in 0..<2 { breaker.recordFailure(now: 0) }
        #expect(breaker.allow(now: 0) == true)
        breaker.recordFailure(now: 1)
        #expect(breaker.state == .open(until: 31))
        #expect(breaker.allow(now: 30) == false)
        #expect(breaker.wait(now: 30) == 1)
        let probe = breaker.allow(now: 31)
        #expect(probe)  // the probe
        #expect(breaker.allow(now: 31) == false)  // only one
        breaker.recordFailure(now: 32)
        #expect(breaker.state == .open(until: 62))
        #expect(breaker.allow(now: 62) == true)
        breaker.recordSuccess()
        #expect(breaker.state == .closed(failures: 0))
    }

    @Test func successResetsTheCount() {
        var breaker = CircuitBreaker(failureThreshold: 2, openFor: 5)
        breaker.recordFailure(now: 0)
        breaker.recordSuccess()
        breaker.recordFailure(now: 0)
        #expect(breaker.state == .closed(failures: 1))
    }
}
