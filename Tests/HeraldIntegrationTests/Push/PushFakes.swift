import Foundation
import HeraldDelivery
import Synchronization
import Testing

/// Why the push fakes (Tests/Fixtures/push) cannot run on this machine, or nil when they can. Printed once.
let pushFakesMissing: String? = {
    let probe = ChildProcess()
    probe.executableURL = URL(fileURLWithPath: python3)
    probe.arguments = ["-c", "import h2, jwt, cryptography, http_ece"]
    let pipe = Pipe()
    probe.standardError = pipe
    probe.standardOutput = pipe
    guard (try? launchSerialized(probe)) != nil else {
        print("push fakes skipped: cannot run \(python3)")
        return "cannot run \(python3)"
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    probe.waitUntilExit()
    guard probe.terminationStatus != 0 else { return nil }
    let reason = "python packages for the push fakes are missing (run scripts/install-deps.sh --test): "
        + (output.split(separator: "\n").last.map(String.init) ?? "import failed")
    print("push fakes skipped: \(reason)")
    return reason
}()

/// The push suites run in a test process of their own: `scripts/test.sh` runs them as a second `swift test`
/// with `HERALD_PUSH_FAKE_TESTS=1`. They were split off while the test process crashed inside Foundation's
/// `Process.run`; that crash also happened without them, and children now start through `ChildProcess`
/// (posix_spawn). A run without the variable prints that it left them out.
let pushFakeSuitesEnabled: Bool = {
    let on = ProcessInfo.processInfo.environment["HERALD_PUSH_FAKE_TESTS"] == "1"
    if !on { print("push suites left to their own process: run with HERALD_PUSH_FAKE_TESTS=1 (scripts/test.sh does)") }
    return on
}()

/// One running push-provider fake, its folder, and the files a test reads and writes.
struct PushFake {
    let server: TestServer
    let port: Int
    let dir: TempDirectory

    var record: String { dir.file("record.jsonl") }
    var control: String { dir.file("control.json") }
    var ca: String { dir.file("tls/ca.pem") }

    /// Every request the fake saw so far.
    var records: [[String: Any]] { jsonLines(record) }

    /// Scripts the fake's next requests (written atomically, as the fake expects).
    func script(_ directives: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: directives)
        try data.write(to: URL(fileURLWithPath: control), options: .atomic)
    }

    /// Stops the fake at once (SIGKILL: it holds nothing worth a graceful stop, and Python's own exit takes
    /// about 2 s) and reaps it on a thread of its own, so no test holds a thread of the concurrency pool.
    func stop() {
        kill(server.pid, SIGKILL)
        nonisolated(unsafe) let server = server
        DispatchQueue.global().async { server.process.waitUntilExit() }
        dir.remove()
    }

    /// Runs one of the fake scripts' helper commands (`make-key`, `make-service-account`, …) to completion,
    /// without holding a thread of the concurrency pool while it runs (the tests share two of them).
    static func run(_ script: String, _ arguments: [String]) async throws {
        let status = try await runToExit(python3, [Fixtures.script("push/" + script)] + arguments).status
        guard status == 0 else {
            throw ServerUnavailable("\(script) \(arguments.first ?? "") failed with \(status)")
        }
    }

    static func start(_ script: String, _ name: String, in dir: TempDirectory, _ arguments: [String]) async throws -> PushFake {
        let server = try TestServer(
            name, python3,
            [Fixtures.script("push/" + script), dir.file("ready"), dir.file("record.jsonl"), "--control", dir.file("control.json")]
                + arguments,
            log: dir.file("fake.log"))
        return PushFake(server: server, port: try await readyPort(dir.file("ready"), server: server), dir: dir)
    }

    /// apns_server.py with a fresh .p8 key for team TEAM123456, key KEY1234567, topic com.example.shop.
    static func apns(_ extra: [String] = []) async throws -> (PushFake, keyPEM: String) {
        let dir = try TempDirectory()
        try await run("apns_server.py", ["make-key", dir.file("key.p8")])
        let fake = try await start(
            "apns_server.py", "apns fake", in: dir,
            ["--key-file", dir.file("key.p8"), "--team-id", "TEAM123456", "--key-id", "KEY1234567",
             "--topic", "com.example.shop", "--cert-dir", dir.file("tls")] + extra)
        return (fake, try String(contentsOfFile: dir.file("key.p8"), encoding: .utf8))
    }

    /// fcm_server.py with a service account (project herald-test) whose token_uri is the fake's.
    static func fcm(_ extra: [String] = []) async throws -> (PushFake, serviceAccount: String) {
        let dir = try TempDirectory()
        let fake = try await start("fcm_server.py", "fcm fake", in: dir, ["--service-account", dir.file("sa.json")] + extra)
        return (fake, try String(contentsOfFile: dir.file("sa.json"), encoding: .utf8))
    }

    /// webpush_server.py with subscriptions `ids`; returns them as Herald sees them.
    static func webPush(_ ids: [String], _ extra: [String] = []) async throws -> (PushFake, [String: WebPushSubscription]) {
        let dir = try TempDirectory()
        let fake = try await start(
            "webpush_server.py", "webpush fake", in: dir,
            ["--subscriptions", dir.file("subs.json")] + ids.flatMap { ["--sub", $0] } + extra)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.file("subs.json")))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let listed = try #require(json["subscriptions"] as? [String: [String: Any]])
        var subscriptions: [String: WebPushSubscription] = [:]
        for (id, entry) in listed {
            let keys = try #require(entry["keys"] as? [String: String])
            subscriptions[id] = WebPushSubscription(
                endpoint: try #require(entry["endpoint"] as? String), p256dh: try #require(keys["p256dh"]),
                auth: try #require(keys["auth"]))
        }
        return (fake, subscriptions)
    }
}

/// A clock the test moves by hand, starting at the real time and frozen there (the fakes judge tokens by real
/// time plus offset).
final class FakeClock: Sendable {
    private let offset = Mutex(0.0)
    /// The moment the clock was made: it moves only when the test advances it, so a test slowed by a loaded
    /// machine still sees exactly the time it scripted (the fakes' own clocks are real time plus the same
    /// advances, and allow a minute of skew).
    private let base = Date().timeIntervalSince1970

    var now: @Sendable () -> Double { { self.base + self.offset.withLock { $0 } } }

    func advance(_ seconds: Double) { offset.withLock { $0 += seconds } }
}

/// Runs `executable` to its end and returns its exit status and output (stdout and stderr, through a file),
/// waiting on a Dispatch worker instead of a thread of the concurrency pool.
func runToExit(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("herald-run-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    let handle = try FileHandle(forWritingTo: out)
    defer { try? handle.close() }
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    try launchSerialized(process)
    // The wait blocks a Dispatch worker, never a thread of the concurrency pool.
    let child = process
    let status: Int32 = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            child.waitUntilExit()
            continuation.resume(returning: child.terminationStatus)
        }
    }
    return (status, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
}
