import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Testing

@testable import HeraldDaemon

/// `SystemdNotifier` against real AF_UNIX datagram sockets, as systemd would receive its messages.
@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func messagesArriveExactly(abstract: Bool) async throws {
        let listener = try NotifyListener(abstract: abstract)
        let notifier = SystemdNotifier(environment: listener.environment)
        #expect(notifier.isEnabled)

        #expect(notifier.ready())
        #expect(await listener.next() == "READY=1")

        let before = SystemdNotifier.monotonicMicroseconds()
        #expect(notifier.reloading())
        let after = SystemdNotifier.monotonicMicroseconds()
        let reload = try #require(await listener.next())
        let lines = reload.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[0] == "RELOADING=1")
        let stamp = try #require(UInt64(lines[1].dropFirst("MONOTONIC_USEC=".count)))
        #expect(lines[1].hasPrefix("MONOTONIC_USEC=") && (before...after).contains(stamp))

        #expect(notifier.stopping())
        #expect(await listener.next() == "STOPPING=1")
        #expect(notifier.watchdog())
        #expect(await listener.next() == "WATCHDOG=1")
        #expect(notifier.extendTimeout(by: .seconds(90) + .milliseconds(1)))
        #expect(await listener.next() == "EXTEND_TIMEOUT_USEC=90001000")
        #expect(notifier.status("queue 12, 3.5/s"))
        #expect(await listener.next() == "STATUS=queue 12, 3.5/s")
        #expect(notifier.send([("READY", "1"), ("STATUS", "two\nlines")]))
        #expect(await listener.next() == "READY=1\nSTATUS=two lines")
    }

    @Test(arguments: [false, true])
    func sendsWhatSystemdNotifySends(abstract: Bool) async throws {
        let listener = try NotifyListener(abstract: abstract)
        let (status, output) = try SystemdUnitTests.run(
            SystemdUnitTests.tool("systemd-notify"), ["--no-block", "--ready", "--status=queue 3"],
            environment: listener.environment)
        #expect(status == 0, "\(output)")
        let reference = try #require(await listener.next())
        #expect(
            SystemdNotifier(environment: listener.environment).send([("READY", "1"), ("STATUS", "queue 3")]))
        #expect(await listener.next() == reference)
    }

    @Test func withoutNotifySocketEverythingIsANoOp() {
        let log = CapturedLog()
        for environment in [[:], ["NOTIFY_SOCKET": ""]] {
            let notifier = SystemdNotifier(environment: environment, logger: log.logger)
            #expect(!notifier.isEnabled)
            #expect(!notifier.ready() && !notifier.reloading() && !notifier.stopping())
            #expect(
                !notifier.watchdog() && !notifier.status("idle") && !notifier.extendTimeout(by: .seconds(1)))
        }
        #expect(log.records.withLock { $0.isEmpty })
    }

    @Test func aFailureIsLoggedOnce() {
        let log = CapturedLog()
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": "/nonexistent/herald/notify.sock"], logger: log.logger)
        #expect(!notifier.ready())
        #expect(!notifier.copy().watchdog())
        let records = log.records.withLock { $0 }
        #expect(records.map(\.level) == [.warning, .debug])
        #expect(records.first?.message.contains("/nonexistent/herald/notify.sock") == true)
    }

    @Test(arguments: ["relative/notify.sock", "vsock:2:1234", "/" + String(repeating: "x", count: 120)])
    func anUnusableAddressIsReportedNotThrown(address: String) {
        let log = CapturedLog()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": address], logger: log.logger)
        #expect(!notifier.ready())
        #expect(log.records.withLock { $0.map(\.level) } == [.warning])
    }

    /// WATCHDOG_USEC, WATCHDOG_PID (nil: unset; "self": this process) and the expected interval.
    static let watchdogCases: [(String?, String?, Duration?)] = [
        ("30000000", nil, .seconds(15)),
        ("30000000", "self", .seconds(15)),
        ("30000000", "1", nil),
        ("1000001", nil, .microseconds(500_000)),
        ("0", nil, nil),
        ("soon", nil, nil),
        (nil, "self", nil),
    ]

    @Test(arguments: watchdogCases)
    func watchdogIntervalIsHalfOfWatchdogUSec(usec: String?, pid: String?, expected: Duration?) {
        var environment = ["NOTIFY_SOCKET": "@unused"]
        environment["WATCHDOG_USEC"] = usec
        environment["WATCHDOG_PID"] = pid == "self" ? String(SystemdNotifier.currentProcessID) : pid
        #expect(SystemdNotifier(environment: environment).watchdogInterval == expected)
        #expect(
            SystemdNotifier(environment: environment, processID: 4242).watchdogInterval
                == (pid == nil ? expected : nil))
    }
}

extension SystemdNotifier {
    /// A copy, to show that copies share the once-only failure report.
    fileprivate func copy() -> SystemdNotifier { self }
}

/// `WatchdogService` rounds, and its loop under a `ServiceGroup` with a scripted clock.
@Suite struct WatchdogServiceTests {
    @Test func tickSendsWatchdogAndStatusInOneMessage() async throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(
            environment: listener.environment.merging(["WATCHDOG_USEC": "30000000"]) { a, _ in a })
        let service = WatchdogService(notifier: notifier) { "queue=12 rate=3.5/s" }
        #expect(service.period == .seconds(15) && service.sendsWatchdog)
        #expect(await service.tick())
        #expect(await listener.next() == "WATCHDOG=1\nSTATUS=queue=12 rate=3.5/s")
    }

    @Test func aStaleHeartbeatWithholdsThePing() async throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(
            environment: listener.environment.merging(["WATCHDOG_USEC": "30000000"]) { a, _ in a })
        let log = CapturedLog()
        let service = WatchdogService(
            notifier: notifier, logger: log.logger, isAlive: { false }, status: { "stuck" })
        #expect(await service.tick())
        #expect(await listener.next() == "STATUS=stuck")
        #expect(log.records.withLock { $0.map(\.level) } == [.warning])
    }

    @Test func withoutAWatchdogOnlyTheStatusIsSent() async throws {
        let listener = try NotifyListener()
        let service = WatchdogService(
            notifier: SystemdNotifier(environment: listener.environment), statusInterval: .seconds(7)
        ) { "idle" }
        #expect(service.period == .seconds(7) && !service.sendsWatchdog)
        #expect(await service.tick())
        #expect(await listener.next() == "STATUS=idle")
    }

    @Test func outsideSystemdTickSendsNothing() async {
        let service = WatchdogService(notifier: SystemdNotifier(environment: [:])) { "idle" }
        #expect(await !service.tick())
    }

    @Test func runTicksEveryIntervalAndStopsWithTheGroup() async throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(
            environment: listener.environment.merging(["WATCHDOG_USEC": "2000000"]) { a, _ in a })
        let clock = ScriptedClock(freeSleeps: 2)
        let counter = LockedState(0)
        let watchdog = WatchdogService(notifier: notifier, clock: clock) {
            let round = counter.withLock { n in
                n += 1
                return n
            }
            return "round \(round)"
        }
        let group = ServiceGroup(services: [watchdog], logger: CapturedLog().logger)
        let received = try await withThrowingTaskGroup(of: [String].self) { tasks in
            tasks.addTask {
                try await group.run()
                return []
            }
            var count = 0
            // A generous bound: other suites' fixtures may hold the cooperative threads for seconds while their
            // servers start; a watchdog that never beats still fails here.
            let messages = await listener.collect(
                until: { _ in
                    count += 1
                    return count == 3
                }, timeout: .seconds(60))
            // What SIGTERM does in heraldd.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return messages
        }

        #expect(received == (1...3).map { "WATCHDOG=1\nSTATUS=round \($0)" })
        #expect(await listener.next() == "STOPPING=1")
        #expect(clock.requested == [.seconds(1), .seconds(1), .seconds(1)])
    }

    @Test func outsideSystemdRunWaitsForShutdownWithoutAskingForStatus() async throws {
        let clock = ScriptedClock(freeSleeps: 0)
        let asked = LockedState(false)
        let watchdog = WatchdogService(notifier: SystemdNotifier(environment: [:]), clock: clock) {
            asked.withLock { $0 = true }
            return "idle"
        }
        // Returning early would make the group cancel everything (ServiceGroupError) instead of running on.
        let group = ServiceGroup(services: [watchdog], logger: CapturedLog().logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var parkings = clock.parkings.makeAsyncIterator()
            await parkings.next()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!asked.withLock { $0 })
        #expect(clock.requested == [.seconds(30)])
    }
}
