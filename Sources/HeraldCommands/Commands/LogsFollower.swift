import Foundation
import HeraldLedger

/// `herald logs --follow`: polls the ledger's history for changes after a cursor and prints each one,
/// until SIGINT or SIGTERM.
struct LogsFollower: Sendable {
    /// The ledger, read-only.
    let ledger: any DispatchLedger
    /// The same filter as the window (its `since` plays no part: every followed change is new).
    let filter: LedgerFilter
    /// Prints each change.
    let printer: LogsPrinter

    /// How often the ledger is read.
    static let interval: Duration = .milliseconds(500)
    /// Changes read at once; a full page is followed by the next one at once, without waiting.
    static let pageSize = 1000

    /// Prints changes after history id `cursor` until SIGINT or SIGTERM, then returns normally.
    func run(from cursor: Int64) async throws {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        // Handled from before the first change is printed, so neither signal ever kills the process mid-line.
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await poll(from: cursor) }
            group.addTask {
                for await _ in signals { return }
            }
            // A signal ends the wait and cancels the poll (mid-sleep); a read error is rethrown.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Reads and prints changes on a fixed beat of the monotonic clock (deadlines advance by `interval`,
    /// so the time a read takes does not stretch the period); ends with a CancellationError when cancelled.
    func poll(from start: Int64) async throws {
        let clock = ContinuousClock()
        var cursor = start
        var deadline = clock.now
        while true {
            try Task.checkCancellation()
            let page = try await ledger.changes(after: cursor, filter, limit: Self.pageSize)
            page.items.forEach(printer.print)
            cursor = page.cursor
            if page.items.count >= Self.pageSize { continue }
            deadline = max(deadline.advanced(by: Self.interval), clock.now)
            try await Task.sleep(until: deadline, clock: clock)
        }
    }
}
