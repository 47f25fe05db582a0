/// When to try a failed delivery again: exponential backoff with full jitter, honouring Retry-After.
///
/// Pure: the attempt count, the error and the random source are parameters; nothing reads a clock.
public struct RetryPolicy: Sendable, Hashable {
    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        /// Try again after this many seconds.
        case retry(after: Double)
        /// Give up: the error is permanent or the last attempt failed.
        case dead(DeliveryError)
    }

    /// The most attempts, the first included.
    public var maxAttempts: Int
    /// The backoff cap before jitter for the first retry, in seconds.
    public var baseDelay: Double
    /// The largest backoff cap, in seconds.
    public var maxDelay: Double
    /// The longest Retry-After honoured, in seconds; a longer one is clamped to this.
    public var maxRetryAfter: Double

    /// A policy.
    public init(maxAttempts: Int = 6, baseDelay: Double = 2, maxDelay: Double = 600, maxRetryAfter: Double = 3600) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The backoff cap after `attempt` failed attempts (1-based): `min(maxDelay, baseDelay · 2^(attempt-1))`.
    public func cap(afterAttempt attempt: Int) -> Double {
        let exponent = Double(min(max(attempt - 1, 0), 62))
        return min(maxDelay, baseDelay * pow2(exponent))
    }

    /// The decision after attempt number `attempt` (1-based) failed with `error`, jitter drawn from `random`.
    public func decide(attempt: Int, error: DeliveryError, random: inout some RandomNumberGenerator) -> Decision {
        decide(attempt: attempt, error: error, jitter: Double.random(in: 0..<1, using: &random))
    }

    /// The decision after attempt number `attempt` (1-based) failed with `error`.
    ///
    /// The delay is `jitter · cap` with `jitter` uniform in `[0, 1)` (full jitter), and never
    /// shorter than the peer's Retry-After.
    public func decide(attempt: Int, error: DeliveryError, jitter: Double) -> Decision {
        guard error.isRetryable else { return .dead(error) }
        guard attempt < maxAttempts else {
            var last = error
            last.isRetryable = false
            last.message += " (gave up after \(attempt) attempts)"
            return .dead(last)
        }
        let jittered = min(max(jitter, 0), 1) * cap(afterAttempt: attempt)
        let floor = min(error.retryAfter ?? 0, maxRetryAfter)
        return .retry(after: max(jittered, floor))
    }

    private func pow2(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e) { r *= 2 }
        return r
    }
}

/// Parses an HTTP `Retry-After` value: delay seconds, or an HTTP-date relative to `now` (Unix seconds).
public enum RetryAfter {
    /// Seconds to wait (≥ 0), or nil when the value is neither form.
    public static func seconds(_ value: String, now: Double) -> Double? {
        let text = value.trimmingCharacters(in: " \t")
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) { return Double(text) }
        guard let date = httpDate(text) else { return nil }
        return max(0, date - now)
    }

    /// Unix seconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) or RFC 850 date
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`); nil otherwise.
    public static func httpDate(_ text: String) -> Double? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(separator: " ")
        guard parts.count >= 4, parts.last == "GMT", parts[0].hasSuffix(",") else { return nil }
        var day: Int?, month: Int?, year: Int?
        let clock: Substring
        if parts.count == 6 {  // IMF-fixdate
            day = Int(parts[1])
            month = months.firstIndex(of: String(parts[2])).map { $0 + 1 }
            year = Int(parts[3])
            clock = parts[4]
        } else if parts.count == 4 {  // RFC 850
            let dmy = parts[1].split(separator: "-")
            guard dmy.count == 3 else { return nil }
            day = Int(dmy[0])
            month = months.firstIndex(of: String(dmy[1])).map { $0 + 1 }
            year = Int(dmy[2]).map { $0 < 70 ? $0 + 2000 : $0 < 100 ? $0 + 1900 : $0 }
            clock = parts[2]
        } else {
            return nil
        }
        let hms = clock.split(separator: ":").compactMap { Int($0) }
        guard let day, let month, let year, hms.count == 3, (1...31).contains(day), hms[0] < 24, hms[1] < 60, hms[2] < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
