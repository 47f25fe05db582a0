import Foundation
import Testing

/// The fixture scripts under Tests/Fixtures.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static func script(_ name: String) -> String { directory + "/" + name }
}

/// Why a real server could not be used: the test fails with this reason printed.
struct ServerUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temporary folder, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/herald-it-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerUnavailable("cannot create a temp folder") }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A server process started by a test and stopped by its PID.
final class TestServer {
    let name: String
    let process = ChildProcess()
    let logPath: String

    /// Starts `executable` with `arguments`, output to `logPath`.
    init(_ name: String, _ executable: String, _ arguments: [String], log logPath: String) throws {
        self.name = name
        self.logPath = logPath
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ServerUnavailable("\(name): \(executable) is not installed (run scripts/install-deps.sh --test)")
        }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        do { try launchSerialized(process) } catch { throw ServerUnavailable("\(name): cannot start \(executable): \(error)") }
    }

    var pid: Int32 { process.processIdentifier }

    /// The server's log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops the process by PID (TERM, then KILL) and reaps it, so no zombie is left.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while isAlive && Date() < deadline { usleep(5_000) }
        if isAlive { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// False once the process has exited, even while it lingers as a zombie (state `Z`) before being reaped.
    var isAlive: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    deinit { stop() }
}

/// Waits for `condition` with a bounded deadline, polling without blocking a thread; throws `reason` when it never holds.
func waitFor(_ reason: @autoclosure () -> String, timeout: Double = 15, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw ServerUnavailable("timed out after \(Int(timeout)) s: \(reason())")
}

/// Reads the port a fixture wrote to its ready file.
func readyPort(_ path: String, server: TestServer) async throws -> Int {
    try await waitFor("\(server.name) never became ready; log:\n\(server.log)") {
        guard server.process.isRunning else { throw ServerUnavailable("\(server.name) exited; log:\n\(server.log)") }
        return FileManager.default.fileExists(atPath: path)
    }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw ServerUnavailable("\(server.name) wrote no port")
    }
    return port
}

/// True when something listens on 127.0.0.1:`port` (asks `ss`; never connects).
func isListening(_ port: Int) -> Bool {
    let ss = ChildProcess()
    ss.executableURL = URL(fileURLWithPath: "/usr/bin/ss")
    ss.arguments = ["-ltnH", "sport = :\(port)"]
    let pipe = Pipe()
    ss.standardOutput = pipe
    guard (try? launchSerialized(ss)) != nil else { return false }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    ss.waitUntilExit()
    return !out.isEmpty
}

/// A free TCP port on 127.0.0.1, chosen by the kernel.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// JSON lines of a record file.
func jsonLines(_ path: String) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

/// The real interpreter behind the `python3` on PATH (where pip installed aiosmtpd and
/// standardwebhooks), resolved once so the PID we stop is Python's, not a wrapper script's.
let python3: String = {
    let probe = ChildProcess()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
    let pipe = Pipe()
    probe.standardOutput = pipe
    guard (try? launchSerialized(probe)) != nil else { return "/usr/bin/python3" }
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    probe.waitUntilExit()
    let path = out.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty ? "/usr/bin/python3" : path
}()

/// Starts the verifying webhook receiver (Tests/Fixtures/webhook_receiver.py) in `dir` with `secrets`;
/// returns it (stop it when done) and its port. Deliveries are recorded in `dir/record.jsonl`.
func startWebhookReceiver(_ dir: TempDirectory, secrets: [String]) async throws -> (TestServer, Int) {
    let receiver = try TestServer(
        "webhook receiver", python3,
        [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("record.jsonl")] + secrets,
        log: dir.file("receiver.log"))
    return (receiver, try await readyPort(dir.file("ready"), server: receiver))
}
