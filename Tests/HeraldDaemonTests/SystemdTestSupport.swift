import Foundation
import Glibc
import HeraldCore
import Logging

@testable import HeraldDaemon

/// What systemd does with `$NOTIFY_SOCKET`, for tests: binds an AF_UNIX datagram socket (a file in a
/// temporary folder, or a name in the abstract namespace) and hands back the messages sent to it.
///
/// Give a process `environment` to have it notify this listener, e.g. heraldd started with `Process`.
final class NotifyListener: Sendable {
    /// A failure to create the socket.
    struct SetupError: Error, CustomStringConvertible {
        /// What went wrong.
        let description: String
    }

    /// The `NOTIFY_SOCKET` value: an absolute path, or `@name` for the abstract namespace.
    let address: String
    /// The bound socket.
    private let fd: Int32
    /// The temporary folder holding a path socket, removed with the listener.
    private let folder: String?

    /// Binds a fresh socket: in the abstract namespace when `abstract`, else in a new temporary folder.
    init(abstract: Bool = false) throws {
        let tag = UUID().uuidString.prefix(8)
        if abstract {
            folder = nil
            address = "@herald-notify-test-\(tag)"
        } else {
            let dir = "/tmp/herald-notify-\(tag)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            folder = dir
            address = dir + "/notify.sock"
        }
        let sock = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw SetupError(description: "socket(): \(NotifySocket.errorText(errno))") }
        let bound = NotifySocket.withAddress(address) { bind(sock, $0, $1) }
        guard bound == 0 else {
            let reason = bound == nil ? "bad address" : NotifySocket.errorText(errno)
            close(sock)
            throw SetupError(description: "bind(\(address)): \(reason)")
        }
        fd = sock
    }

    deinit {
        close(fd)
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// The environment that points a notifier or a child process at this listener.
    var environment: [String: String] { ["NOTIFY_SOCKET": address] }

    /// The next message, or nil when none arrives within `timeout`.
    ///
    /// The wait blocks a Dispatch thread, not one of the few cooperative threads the code under test needs.
    func next(timeout: Duration = .seconds(10)) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.receive(timeout: timeout)) }
        }
    }

    /// Messages in arrival order up to and including the first that satisfies `last`, or all that
    /// arrived before `timeout` passed without one.
    func collect(until last: (String) -> Bool, timeout: Duration = .seconds(10)) async -> [String] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var messages: [String] = []
        while case let left = ContinuousClock.now.duration(to: deadline), left > .zero,
            let message = await next(timeout: left)
        {
            messages.append(message)
            if last(message) { break }
        }
        return messages
    }

    /// Blocks in `poll` for up to `timeout`, then reads one datagram.
    private func receive(timeout: Duration) -> String? {
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        var waiter = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = poll(&waiter, 1, max(milliseconds, 0)) } while ready < 0 && errno == EINTR
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

/// The executables `swift build` puts beside the test bundle.
enum BuiltProducts {
    /// The folder holding the test runner, `herald` and `heraldd` (e.g. `.build/debug`).
    static var folder: String {
        if let runner = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = URL(fileURLWithPath: runner).deletingLastPathComponent().path
            if FileManager.default.isExecutableFile(atPath: dir + "/heraldd") { return dir }
        }
        return repository + "/.build/debug"
    }

    /// The freshly built `heraldd`.
    static var heraldd: String { folder + "/heraldd" }

    /// The repository root, found from this file's path.
    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// A log handler keeping records in memory, to check what code under test logged.
struct CapturedLog: LogHandler {
    /// One record.
    struct Record: Sendable {
        /// The level it was logged at.
        let level: Logger.Level
        /// Its text.
        let message: String
    }

    /// The records, shared by every copy of the handler.
    let records = LockedState<[Record]>([])
    /// Required by `LogHandler`.
    var metadata: Logger.Metadata = [:]
    /// Everything is kept.
    var logLevel: Logger.Level = .trace

    /// Required by `LogHandler`.
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Keeps the record.
    func log(event: LogEvent) {
        records.withLock { $0.append(Record(level: event.level, message: event.message.description)) }
    }

    /// A logger writing here.
    var logger: Logger { Logger(label: "test") { _ in self } }
}

/// A clock for loops under test: the first `freeSleeps` sleeps return at once (moving `now` to their
/// deadline), later ones wait until their task is cancelled. Every requested duration is recorded.
final class ScriptedClock: Clock {
    /// A point on the scripted time line.
    struct Instant: InstantProtocol {
        /// Time since the clock was made.
        var offset: Duration

        /// This instant moved by `duration`.
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }

        /// The time from this instant to `other`.
        func duration(to other: Instant) -> Duration { other.offset - offset }

        /// Earlier instants sort first.
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    /// The scripted time and the sleeps asked for so far.
    private let state = LockedState<(now: Instant, requested: [Duration])>((Instant(offset: .zero), []))
    /// How many sleeps return without waiting.
    private let freeSleeps: Int
    /// Yields each time a sleep starts waiting, so a test knows the loop is parked.
    let parkings: AsyncStream<Void>
    /// The producer side of `parkings`.
    private let parked: AsyncStream<Void>.Continuation

    /// A clock letting `freeSleeps` sleeps through.
    init(freeSleeps: Int) {
        self.freeSleeps = freeSleeps
        (parkings, parked) = AsyncStream.makeStream()
    }

    /// The scripted now.
    var now: Instant { state.withLock { $0.now } }

    /// No resolution limit.
    var minimumResolution: Duration { .zero }

    /// The durations of every sleep asked for, in order.
    var requested: [Duration] { state.withLock { $0.requested } }

    /// Returns at once while free sleeps remain, else waits for cancellation and throws it.
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let free = state.withLock { s in
            s.requested.append(s.now.duration(to: deadline))
            guard s.requested.count <= freeSleeps else { return false }
            s.now = deadline
            return true
        }
        if free { return }
        self.parked.yield()
        let parked = LockedState<(waiter: CheckedContinuation<Void, Never>?, cancelled: Bool)>((nil, false))
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = parked.withLock { p in
                    if !p.cancelled { p.waiter = continuation }
                    return p.cancelled
                }
                if cancelled { continuation.resume() }
            }
        } onCancel: {
            let waiter = parked.withLock { p in
                p.cancelled = true
                defer { p.waiter = nil }
                return p.waiter
            }
            waiter?.resume()
        }
        throw CancellationError()
    }
}
