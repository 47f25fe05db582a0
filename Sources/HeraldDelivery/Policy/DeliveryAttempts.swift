import Synchronization

/// Runs one delivery with its provider gate and retry policy until it succeeds or is `dead`.
///
/// The clock, the sleep and the randomness are injected, so tests run it instantly. The daemon
/// may instead persist `RetryPolicy` decisions in the ledger; this loop serves direct sends.
public struct DeliveryAttempts: Sendable {
    /// The retry policy.
    public var policy: RetryPolicy
    /// Unix seconds now.
    public var now: @Sendable () -> Double
    /// Waits this many seconds.
    public var sleep: @Sendable (Double) async throws -> Void
    /// A uniform number in [0, 1) for jitter.
    public var jitter: @Sendable () -> Double

    /// An attempt runner.
    public init(policy: RetryPolicy, now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async throws -> Void,
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.policy = policy
        self.now = now
        self.sleep = sleep
        self.jitter = jitter
    }

    /// Sends through `gate` (shared per provider) until success or `dead`; returns the value or the final error.
    public func run<T: Sendable>(gate: GateBox, _ send: @Sendable () async throws -> T) async -> Result<T, DeliveryError> {
        var attempt = 0
        while true {
            switch gate.admit(now: now()) {
            case .wait(let seconds), .circuitOpen(let seconds):
                do { try await sleep(seconds) } catch { return .failure(DeliveryError(.cancelled, "cancelled while waiting", isRetryable: true)) }
                continue
            case .send:
                break
            }
            attempt += 1
            do {
                let value = try await send()
                gate.record(nil, now: now())
                return .success(value)
            } catch {
                let failure = error as? DeliveryError ?? DeliveryError(.transferFailed, "\(error)", isRetryable: false)
                gate.record(failure, now: now())
                if failure.code == .cancelled { return .failure(failure) }
                switch policy.decide(attempt: attempt, error: failure, jitter: jitter()) {
                case .dead(let final): return .failure(final)
                case .retry(let after):
                    do { try await sleep(after) } catch { return .failure(failure) }
                }
            }
        }
    }
}

/// A `ProviderGate` shared by every send to one provider.
public final class GateBox: Sendable {
    private let gate: Mutex<ProviderGate>

    /// Shares `gate`.
    public init(_ gate: ProviderGate) { self.gate = Mutex(gate) }

    /// `ProviderGate.admit`.
    public func admit(now: Double) -> ProviderGate.Admission { gate.withLock { $0.admit(now: now) } }

    /// `ProviderGate.record`.
    public func record(_ error: DeliveryError?, now: Double) { gate.withLock { $0.record(error, now: now) } }

    /// A copy of the gate's state.
    public var snapshot: ProviderGate { gate.withLock { $0 } }
}
