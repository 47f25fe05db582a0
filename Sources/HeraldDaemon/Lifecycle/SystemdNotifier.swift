import HeraldCore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd about the daemon's state (`sd_notify` without libsystemd): one datagram per call to
/// the AF_UNIX socket named by `$NOTIFY_SOCKET`.
///
/// Created from the environment systemd gives a `Type=notify` service. Without `NOTIFY_SOCKET` (run
/// from a shell, in tests) every call is a no-op. Calls never throw: the first failure is logged,
/// later ones only at debug level, so a vanished socket cannot flood the journal.
public struct SystemdNotifier: Sendable {
    /// The socket address from `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace), if set.
    public let socketAddress: String?
    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, when systemd asked this process for it.
    public let watchdogInterval: Duration?
    /// Where failures are reported.
    private let logger: Logger
    /// Whether a failure has been logged yet; shared by copies so the warning appears once per notifier.
    private let reported: LockedState<Bool>

    /// A notifier for `environment` (usually `ProcessInfo.processInfo.environment`).
    ///
    /// `processID` is this process's id, compared with `WATCHDOG_PID` as `sd_watchdog_enabled` does:
    /// the watchdog applies when `WATCHDOG_PID` is unset or names this process.
    public init(
        environment: [String: String], processID: Int32 = Self.currentProcessID,
        logger: Logger = Logger(label: "herald.systemd")
    ) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.socketAddress = socket
        self.watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
        self.logger = logger
        self.reported = LockedState(false)
    }

    /// True when `NOTIFY_SOCKET` is set, so messages go somewhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// `READY=1`: start-up finished (API bound, migrations done), or a reload finished.
    @discardableResult
    public func ready() -> Bool { send([("READY", "1")]) }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (systemd 253+ matches the two; 252 ignores the stamp).
    @discardableResult
    public func reloading() -> Bool {
        send([("RELOADING", "1"), ("MONOTONIC_USEC", String(Self.monotonicMicroseconds()))])
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping() -> Bool { send([("STOPPING", "1")]) }

    /// `WATCHDOG=1`: the daemon is alive.
    @discardableResult
    public func watchdog() -> Bool { send([("WATCHDOG", "1")]) }

    /// `EXTEND_TIMEOUT_USEC=`: asks for `duration` more before the start (or stop) timeout fires, e.g.
    /// while a long migration runs; repeat it before the extension runs out.
    @discardableResult
    public func extendTimeout(by duration: Duration) -> Bool {
        let (seconds, attoseconds) = duration.components
        let usec = max(0, seconds) * 1_000_000 + max(0, attoseconds) / 1_000_000_000_000
        return send([("EXTEND_TIMEOUT_USEC", String(usec))])
    }

    /// `STATUS=text`: a one-line status shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Bool { send([("STATUS", text)]) }

    /// Sends `KEY=VALUE` lines as one datagram; true when it was delivered, false when disabled or failed.
    ///
    /// Line breaks in a value would start a new field, so they are replaced by spaces.
    @discardableResult
    public func send(_ fields: [(String, String)]) -> Bool {
        guard let socketAddress, !fields.isEmpty else { return false }
        // Newline-separated with no trailing newline, byte for byte what `systemd-notify` sends.
        let message = fields.map { key, value in
            key + "=" + String(value.map { $0.isNewline ? " " : $0 })
        }.joined(separator: "\n")
        guard let reason = NotifySocket.send(message, to: socketAddress) else { return true }
        let first = reported.withLock { done in
            defer { done = true }
            return !done
        }
        let text: Logger.Message = "cannot notify systemd at NOTIFY_SOCKET '\(socketAddress)': \(reason)"
        if first {
            logger.warning(text)
        } else {
            logger.debug(text)
        }
        return false
    }

    /// Half of `WATCHDOG_USEC` when the watchdog is meant for `processID`, else nil.
    static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, Int32(pid) != processID { return nil }
        return .microseconds(usec / 2)
    }

    /// This process's id.
    public static var currentProcessID: Int32 {
        #if canImport(Glibc)
            return getpid()
        #else
            return 0
        #endif
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares `MONOTONIC_USEC` against.
    static func monotonicMicroseconds() -> UInt64 {
        #if canImport(Glibc)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        #else
            return 0
        #endif
    }
}
