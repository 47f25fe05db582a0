import HeraldCore

/// Admission control for one provider: its circuit breaker, token-bucket rate limit and optional
/// daily quota, fed by the outcome of each send. Pure: `now` (Unix seconds) is a parameter.
public struct ProviderGate: Sendable, Hashable {
    /// Whether a send may go out now.
    public enum Admission: Sendable, Hashable {
        /// Send now (a token, a quota unit and, when half-open, the probe were taken).
        case send
        /// The rate limit or quota says wait this many seconds.
        case wait(Double)
        /// The breaker is open; retry after this many seconds.
        case circuitOpen(Double)
    }

    /// The rate limit.
    public private(set) var bucket: TokenBucket
    /// The daily quota, if configured.
    public private(set) var quota: DailyQuota?
    /// The circuit breaker.
    public private(set) var breaker: CircuitBreaker
    /// True from a refused login until the next success: the provider's credentials or TLS set-up are wrong.
    public private(set) var refusingLogin = false
    /// Seconds the breaker stays open after a refused login. Longer than for transient failures: nothing
    /// changes until someone fixes the configuration, and many failed logins can get an account locked.
    public var loginRefusalOpenFor: Double = 300

    /// A gate.
    public init(bucket: TokenBucket, quota: DailyQuota? = nil, breaker: CircuitBreaker = CircuitBreaker()) {
        self.bucket = bucket
        self.quota = quota
        self.breaker = breaker
    }

    /// A gate from configured `rate` and `quota` (`N/day`); no rate means 100/s.
    public init(rate: SendRate?, quota: SendRate?, breaker: CircuitBreaker = CircuitBreaker()) {
        self.init(bucket: rate.map { TokenBucket($0) } ?? TokenBucket(rate: 100),
                  quota: quota.map { DailyQuota(limit: Int(Double($0.count) * 86_400 / Double($0.perSeconds))) }, breaker: breaker)
    }

    /// Asks to send one message at `now`.
    public mutating func admit(now: Double) -> Admission {
        let open = breaker.wait(now: now)
        if open > 0 { return .circuitOpen(open) }
        let wait = bucket.take(now: now)
        if wait > 0 { return .wait(wait) }
        if var q = quota {
            let untilTomorrow = q.take(now: now)
            quota = q
            if untilTomorrow > 0 { return .wait(untilTomorrow) }
        }
        // Half-open lets exactly one probe out; the others come back shortly.
        return breaker.allow(now: now) ? .send : .circuitOpen(1)
    }

    /// Records how a send went: successes close the breaker and restore the rate; push-back
    /// (429/502/503/504) halves the rate; failures that blame the provider count toward the breaker, and a
    /// refused login (`loginDenied`) opens it at once for `loginRefusalOpenFor` seconds. Returns true when
    /// this error is the first refused login since the last success (the one worth logging loudly).
    @discardableResult
    public mutating func record(_ error: DeliveryError?, now: Double) -> Bool {
        guard let error else {
            breaker.recordSuccess()
            bucket.recover()
            refusingLogin = false
            return false
        }
        if error.code == .loginDenied {
            breaker.trip(now: now, for: loginRefusalOpenFor)
            defer { refusingLogin = true }
            return !refusingLogin
        }
        if error.code == .slowDown { bucket.slowDown(now: now) }
        let blamesProvider = error.isRetryable || error.code == .tlsFailed
        if blamesProvider && error.code != .cancelled { breaker.recordFailure(now: now) }
        // A permanent rejection of one message (4xx, SMTP 5xx) says nothing about the provider's health.
        if !blamesProvider, case .halfOpen = breaker.state { breaker.recordSuccess() }
        return false
    }
}
