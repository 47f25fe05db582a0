/// A circuit breaker per provider: after `failureThreshold` consecutive transient failures it opens
/// and refuses sends for `openFor` seconds, then lets one probe through (half-open); the probe's
/// success closes it, its failure opens it again.
///
/// Pure: `now` (seconds) is a parameter. Only failures that blame the provider (timeouts,
/// connection errors, 5xx) should be recorded; a permanent 4xx is the message's fault.
public struct CircuitBreaker: Sendable, Hashable {
    /// The breaker's state.
    public enum State: Sendable, Hashable {
        /// Sending normally; `failures` consecutive failures so far.
        case closed(failures: Int)
        /// Refusing sends until `until`.
        case open(until: Double)
        /// One probe is allowed; `probing` is true while it is out.
        case halfOpen(probing: Bool)
    }

    /// Consecutive failures that open the breaker.
    public let failureThreshold: Int
    /// Seconds the breaker stays open.
    public let openFor: Double
    /// The current state.
    public private(set) var state: State = .closed(failures: 0)

    /// A closed breaker.
    public init(failureThreshold: Int = 5, openFor: Double = 30) {
        self.failureThreshold = max(1, failureThreshold)
        self.openFor = openFor
    }

    /// True when a send may go out now; in half-open state, the first caller becomes the probe.
    public mutating func allow(now: Double) -> Bool {
        switch state {
        case .closed: return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen(probing: true)
            return true
        case .halfOpen(let probing):
            if probing { return false }
            state = .halfOpen(probing: true)
            return true
        }
    }

    /// Seconds until a send may be allowed (0 when closed or a probe is possible).
    public func wait(now: Double) -> Double {
        if case .open(let until) = state { return max(0, until - now) }
        return 0
    }

    /// Records a successful send: the breaker closes.
    public mutating func recordSuccess() { state = .closed(failures: 0) }

    /// Opens the breaker at `now` for `seconds`, whatever its state: for a failure that one occurrence proves,
    /// such as a refused login.
    public mutating func trip(now: Double, for seconds: Double) { state = .open(until: now + seconds) }

    /// Records a transient failure at `now`.
    public mutating func recordFailure(now: Double) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= failureThreshold ? .open(until: now + openFor) : .closed(failures: failures + 1)
        case .halfOpen, .open:
            state = .open(until: now + openFor)
        }
    }
}
