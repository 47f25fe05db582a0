import Logging
import ServiceLifecycle

/// Keeps systemd informed while the daemon runs: `WATCHDOG=1` every `watchdogInterval` (half of
/// `WatchdogSec=`) and a `STATUS=` line with the daemon's own figures, in one datagram per round.
///
/// `isAlive` lets the daemon withhold the ping when its own heartbeat (the scheduler's last tick) is
/// stale, so a stuck loop makes systemd restart the service instead of being hidden by this timer.
/// On graceful shutdown or cancellation the loop stops and, unless told otherwise, `STOPPING=1` is sent:
/// add this service last to the `ServiceGroup`, which shuts services down in reverse order, so
/// systemd hears of the shutdown before the other services start draining.
public struct WatchdogService: Service {
    /// Where the messages go.
    public let notifier: SystemdNotifier
    /// Time between rounds: the watchdog interval when systemd set one, else `statusInterval`.
    public let period: Duration
    /// Whether rounds include `WATCHDOG=1` (systemd asked for a watchdog).
    public let sendsWatchdog: Bool
    /// Whether `STOPPING=1` is sent when the service stops.
    public let announcesStopping: Bool
    /// The clock the loop sleeps on; tests pass their own.
    private let clock: any Clock<Duration>
    /// The `STATUS=` text, e.g. queue depth and send rate.
    private let status: @Sendable () async -> String
    /// False when the daemon's own heartbeat is stale: the round then leaves out `WATCHDOG=1`.
    private let isAlive: @Sendable () async -> Bool
    /// Where a withheld ping is reported.
    private let logger: Logger

    /// A watchdog for `notifier`.
    ///
    /// - Parameters:
    ///   - statusInterval: how often to refresh `STATUS=` when systemd set no watchdog.
    ///   - clock: what the loop sleeps on (a `ContinuousClock` unless a test passes its own).
    ///   - isAlive: the daemon's liveness check; the default always answers true.
    ///   - status: builds the one-line status.
    public init(
        notifier: SystemdNotifier, statusInterval: Duration = .seconds(30), announcesStopping: Bool = true,
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger = Logger(label: "herald.systemd"),
        isAlive: @escaping @Sendable () async -> Bool = { true },
        status: @escaping @Sendable () async -> String
    ) {
        self.notifier = notifier
        self.period = notifier.watchdogInterval ?? statusInterval
        self.sendsWatchdog = notifier.watchdogInterval != nil
        self.announcesStopping = announcesStopping
        self.clock = clock
        self.status = status
        self.isAlive = isAlive
        self.logger = logger
    }

    /// One round: `WATCHDOG=1` (when enabled and alive) and `STATUS=` in one datagram; true when sent.
    @discardableResult
    public func tick() async -> Bool {
        guard notifier.isEnabled else { return false }
        var fields: [(String, String)] = []
        if sendsWatchdog {
            if await isAlive() {
                fields.append(("WATCHDOG", "1"))
            } else {
                logger.warning("heartbeat is stale: withholding WATCHDOG=1 so systemd restarts the daemon")
            }
        }
        fields.append(("STATUS", await status()))
        return notifier.send(fields)
    }

    /// Runs rounds every `period` until graceful shutdown or cancellation, then sends `STOPPING=1`.
    public func run() async throws {
        let service = self
        try? await cancelWhenGracefulShutdown {
            // Outside systemd there is nothing to send: only wait for the end.
            while !Task.isCancelled {
                if service.notifier.isEnabled { await service.tick() }
                try await service.clock.sleep(for: service.period)
            }
        }
        if announcesStopping { notifier.stopping() }
    }
}
