import Synchronization

/// A `ProviderGate` shared by every send to one provider.
public final class GateBox: Sendable {
    private let gate: Mutex<ProviderGate>

    /// Shares `gate`.
    public init(_ gate: ProviderGate) { self.gate = Mutex(gate) }

    /// `ProviderGate.admit`.
    public func admit(now: Double) -> ProviderGate.Admission { gate.withLock { $0.admit(now: now) } }

    /// `ProviderGate.record`: true for the first refused login since the last success.
    @discardableResult
    public func record(_ error: DeliveryError?, now: Double) -> Bool {
        gate.withLock { $0.record(error, now: now) }
    }

    /// A copy of the gate's state.
    public var snapshot: ProviderGate { gate.withLock { $0 } }
}
