import HeraldCore
import HeraldLedger
import Logging

/// Logs a `StorageFault` once per interval, however many requests and loops meet it: a full disk refuses
/// every write, and a line per refusal would fill the journal too (docs/operations.md). The first line
/// of an episode is an error; while it lasts, one line per interval says how many writes were refused since;
/// the first success afterwards logs that writes resumed.
public final class FaultLog: Sendable {
    private struct Episode {
        var fault: StorageFault
        var lastLogged: Double
        var refusedSinceLog: Int
    }

    private let logger: Logger
    private let interval: Double
    private let clock: @Sendable () -> Double
    private let state = LockedState<Episode?>(nil)

    /// A fault log writing to `logger` at most once per `interval` seconds of `clock`.
    public init(logger: Logger, interval: Double = 30, clock: @escaping @Sendable () -> Double) {
        self.logger = logger
        self.interval = interval
        self.clock = clock
    }

    /// Records that `error` happened in `place`; true when it is a storage fault (handled here), false when
    /// the caller must report it itself.
    @discardableResult
    public func record(_ error: any Error, in place: String) -> Bool {
        guard let fault = StorageFault.of(error) else { return false }
        let now = clock()
        let line = state.withLock { episode -> (first: Bool, refused: Int)? in
            guard var e = episode, e.fault == fault else {
                episode = Episode(fault: fault, lastLogged: now, refusedSinceLog: 0)
                return (true, 1)
            }
            e.refusedSinceLog += 1
            defer { episode = e }
            guard now - e.lastLogged >= interval else { return nil }
            let refused = e.refusedSinceLog
            e.lastLogged = now
            e.refusedSinceLog = 0
            return (false, refused)
        }
        guard let line else { return true }
        if line.first {
            logger.error(
                "\(fault.rawValue): the store refuses writes; API writes answer 503 until space returns",
                metadata: ["in": "\(place)", "cause": "\(error)"])
        } else {
            logger.error(
                "\(fault.rawValue): still refusing writes",
                metadata: ["refused": "\(line.refused) in the last \(Int(interval)) s", "in": "\(place)"])
        }
        return true
    }

    /// Notes a successful store operation: ends a fault episode, saying so once.
    public func recovered() {
        guard let ended = state.withLock({ episode -> StorageFault? in
            defer { episode = nil }
            return episode?.fault
        }) else { return }
        logger.notice("\(ended.rawValue) is over: the store accepts writes again")
    }

    /// True while a fault episode is open.
    public var isFaulted: Bool { state.withLock { $0 != nil } }
}
