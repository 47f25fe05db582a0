import Foundation

/// A small lock around a value, for state shared across threads.
public final class LockedState<State>: @unchecked Sendable {
    // @unchecked: every access to `state` goes through `lock`.
    private let lock = NSLock()
    private var state: State

    /// A mutex holding `state`.
    public init(_ state: State) { self.state = state }

    /// Runs `body` with exclusive access to the state.
    public func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
