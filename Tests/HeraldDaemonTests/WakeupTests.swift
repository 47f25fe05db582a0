import Testing

@testable import HeraldDaemon

/// Every idle dispatch loop wakes when new rows are due, not only the first.
@Suite("Wakeup")
struct WakeupTests {
    @Test("one signal wakes every waiting loop")
    func signalWakesAll() async throws {
        let wakeup = Wakeup()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                // An hour: only the signal can end these waits before the test's own time limit.
                group.addTask { await wakeup.wait(timeout: .seconds(3600)) }
            }
            while wakeup.waiting < 4 { await Task.yield() }
            wakeup.signal()
            try await group.waitForAll()
        }
        #expect(wakeup.waiting == 0)
    }

    @Test("a signal with nobody waiting is kept for the next wait")
    func pendingSignal() async {
        let wakeup = Wakeup()
        wakeup.signal()
        await wakeup.wait(timeout: .seconds(3600))
        #expect(wakeup.waiting == 0)
    }
}
