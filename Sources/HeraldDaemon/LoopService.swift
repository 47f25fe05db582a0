import Foundation
import HeraldCore
import Logging
import ServiceLifecycle

/// A nudge: wakes sleeping loops early (new rows in the ledger, a trigger) without polling faster. Every loop
/// waiting when it is signalled wakes; a signal with no loop waiting makes the next wait return at once.
public final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var next: UInt64 = 0
    }

    private let state = LockedState(State())

    /// A wakeup.
    public init() {}

    /// Wakes every waiter, or makes the next wait return at once when none is waiting.
    public func signal() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.waiters.isEmpty else {
                s.pending = true
                return []
            }
            defer { s.waiters.removeAll(keepingCapacity: true) }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Loops waiting now (for tests).
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Waits for a signal or `timeout`, whichever comes first.
    func wait(timeout: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let id = state.withLock { s -> UInt64? in
                if s.pending {
                    s.pending = false
                    return nil
                }
                s.next += 1
                s.waiters[s.next] = c
                return s.next
            }
            guard let id else { return c.resume() }
            Task {
                try? await Task.sleep(for: timeout)
                self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }
}

/// A service that runs `body` in a loop until the group shuts down: right away again when it did work, else
/// after `idle` or a wakeup. Errors are logged and the loop goes on after a pause (a store briefly busy must
/// not stop the daemon); a storage fault goes to the shared `FaultLog`, which logs it once per interval.
struct LoopService: Service, CustomStringConvertible {
    let name: String
    let idle: Duration
    let wakeup: Wakeup?
    let logger: Logger
    var faults: FaultLog?
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
                } catch where faults?.record(error, in: name) == true {
                    // Logged once per interval by the fault log; the loop waits and tries again.
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
