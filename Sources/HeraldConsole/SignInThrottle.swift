import Synchronization

/// Limits failed sign-ins per remote address: at most `limit` within `window` seconds; past that, sign-in is
/// refused (429) until the oldest failure leaves the window, so the token cannot be guessed at speed.
public final class SignInThrottle: Sendable {
    /// Failures allowed per address in the window.
    public let limit: Int
    /// The window, seconds.
    public let window: Int64
    /// Addresses tracked at most; beyond it the oldest entries go (an address churner cannot grow memory).
    static let capacity = 10_000

    private let failures = Mutex<[String: [Int64]]>([:])

    /// A throttle of `limit` failures per `window` seconds.
    public init(limit: Int = 5, window: Int64 = 60) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until `address` may try again at `now`, or nil when it may try now.
    public func retryAfter(_ address: String, now: Int64) -> Int64? {
        failures.withLock { all in
            let recent = (all[address] ?? []).filter { $0 > now - window }
            all[address] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return max(1, oldest + window - now)
        }
    }

    /// Records a failed sign-in from `address` at `now`.
    public func recordFailure(_ address: String, now: Int64) {
        failures.withLock { all in
            if all[address] == nil, all.count >= Self.capacity {
                let stale = all.filter { ($0.value.last ?? 0) <= now - window }.map(\.key)
                for k in stale { all[k] = nil }
                if all.count >= Self.capacity, let any = all.keys.first { all[any] = nil }
            }
            all[address, default: []].append(now)
        }
    }
}
