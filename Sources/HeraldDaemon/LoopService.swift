import Foundation
import HeraldCore
import Logging
import ServiceLifecycle

/// A nudge: wakes a sleeping loop early (new rows in the ledger, a trigger) without polling faster.
public final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var next: UInt64 = 0
    }

    private let state = LockedState(State())

    /// A wakeup.
    public init() {}

    /// Wakes the waiter, or makes its next wait return at once.
    public func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w.continuation
        }
        waiter?.resume()
    }

    /// Waits for a signal or `timeout`, whichever comes first.
    func wait(timeout: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let id = state.withLock { s -> UInt64? in
                if s.pending {
                    s.pending = false
                    return nil
                }
                s.next += 1
                s.waiter = (s.next, c)
                return s.next
            }
            guard let id else { return c.resume() }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard let w = s.waiter, w.id == id else { return nil }
                    s.waiter = nil
                    return w.continuation
                }
                expired?.resume()
            }
        }
    }
}

/// A service that runs `body` in a loop until the group shuts down: right away again when it did work, else
/// after `idle` or a wakeup. Errors are logged and the loop goes on after a pause (a store briefly busy must
/// not stop the daemon).
struct LoopService: Service, CustomStringConvertible {
    let name: String
    let idle: Duration
    let wakeup: Wakeup?
    let logger: Logger
    let body: @Sendable () async throws -> Bool

    var description: String { name }

    func run() async throws {
        let own = wakeup ?? Wakeup()
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if try await body() { continue }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("\(name) failed; retrying", metadata: ["error": "\(error)"])
                }
                await own.wait(timeout: idle)
            }
        } onGracefulShutdown: {
            own.signal()
        }
    }
}
