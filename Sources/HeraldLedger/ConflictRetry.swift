/// How a backend re-runs a write transaction the database aborted because it conflicted with another writer
/// (a deadlock victim, a serialization failure): every write is one transaction, so running it again is
/// safe. One policy for every backend (docs/ledger.md); SQLite needs none (one writer, a busy timeout).
public struct ConflictRetry: Sendable {
    /// Runs in all, the first included.
    public var attempts: Int
    /// The pause before run n+1 is n times this: two daemons that collided do not collide again in step.
    public var backoff: Duration

    /// A policy.
    public init(attempts: Int, backoff: Duration) {
        self.attempts = attempts
        self.backoff = backoff
    }

    /// Five runs, 20 ms, 40 ms, 60 ms, 80 ms apart.
    public static let standard = ConflictRetry(attempts: 5, backoff: .milliseconds(20))

    /// Runs `body`, again while it throws an error `isConflict` accepts and runs remain; any other error,
    /// or the last conflict, is thrown.
    public func run<T>(isConflict: (any Error) -> Bool, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                guard attempt < attempts, isConflict(error) else { throw error }
                try await Task.sleep(for: backoff * attempt)
                attempt += 1
            }
        }
    }
}
