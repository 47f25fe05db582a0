import HeraldCore

/// A token-bucket rate limit: `rate` sends per second on average, up to `burst` at once.
///
/// Pure: `now` (seconds on any monotonic scale) is a parameter. `slowDown()` halves the
/// effective rate when a peer pushes back (429/502/503/504); successes restore it gradually.
public struct TokenBucket: Sendable, Hashable {
    /// The configured rate in tokens per second.
    public let rate: Double
    /// The bucket size.
    public let burst: Double
    /// The rate in force, at most `rate`.
    public private(set) var currentRate: Double
    private var tokens: Double
    private var last: Double?

    /// A full bucket refilling at `rate` per second, holding at most `burst` (at least 1).
    public init(rate: Double, burst: Double? = nil) {
        self.rate = max(rate, 1e-9)
        self.burst = max(1, burst ?? max(1, rate))
        self.currentRate = self.rate
        self.tokens = self.burst
    }

    /// A bucket for a configured rate such as `50/s` (burst: one second's worth, at least 1).
    public init(_ sendRate: SendRate) { self.init(rate: sendRate.perSecond) }

    /// Takes one token when available and returns 0; otherwise takes none and returns the seconds to wait.
    public mutating func take(now: Double) -> Double {
        refill(now)
        if tokens >= 1 {
            tokens -= 1
            return 0
        }
        return (1 - tokens) / currentRate
    }

    /// Halves the effective rate (not below 1/64 of the configured one) and empties the bucket.
    public mutating func slowDown(now: Double) {
        refill(now)
        currentRate = max(rate / 64, currentRate / 2)
        tokens = min(tokens, 0)
    }

    /// Moves the effective rate back up by a tenth of the configured rate.
    public mutating func recover() { currentRate = min(rate, currentRate + rate / 10) }

    private mutating func refill(_ now: Double) {
        if let last, now > last { tokens = min(burst, tokens + (now - last) * currentRate) }
        if last.map({ now > $0 }) ?? true { last = now }
    }
}

/// A daily quota (`quota: 50000/day`) counted per UTC day.
public struct DailyQuota: Sendable, Hashable {
    /// Sends allowed per UTC day.
    public let limit: Int
    /// Sends counted on `day`.
    public private(set) var used = 0
    private var day: Int64 = .min

    /// A quota of `limit` per day.
    public init(limit: Int) { self.limit = max(0, limit) }

    /// Sends counted on the UTC day of `now` (0 when the last send was on an earlier day).
    public func used(at now: Double) -> Int { Int64((now / 86_400).rounded(.down)) == day ? used : 0 }

    /// Counts one send and returns 0 when allowed; otherwise returns the seconds until the next UTC day.
    /// `now` is Unix time in seconds.
    public mutating func take(now: Double) -> Double {
        let today = Int64((now / 86_400).rounded(.down))
        if today != day {
            day = today
            used = 0
        }
        guard used < limit else { return Double(today + 1) * 86_400 - now }
        used += 1
        return 0
    }
}
