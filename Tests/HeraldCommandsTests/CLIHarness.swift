import Foundation

/// Runs the built `herald` binary in a temporary project folder, as an operator would.
struct CLIHarness {
    /// The result of one run.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The temporary folder holding herald.yaml, campaigns/, templates/ and var/.
    let root: String

    /// The `herald` executable built beside the tests.
    static var binary: String {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for config in ["debug", "release"] {
            let path = repo.appendingPathComponent(".build/\(config)/herald").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repo.appendingPathComponent(".build/debug/herald").path
    }

    /// A project folder with the repository's example herald.yaml, campaigns and templates copied in.
    static func make() throws -> CLIHarness {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let root = NSTemporaryDirectory() + "herald-cli-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        for item in ["herald.yaml", "campaigns", "templates"] {
            try fm.copyItem(atPath: repo.appendingPathComponent(item).path, toPath: root + "/" + item)
        }
        return CLIHarness(root: root)
    }

    /// Runs `herald ARGS` in the project folder with HERALD_CONFIG pointing at its herald.yaml.
    func run(_ args: [String], environment extra: [String: String] = [:]) throws -> Run {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        var env = ProcessInfo.processInfo.environment
        env["HERALD_CONFIG"] = root + "/herald.yaml"
        for (k, v) in extra { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try launchSerialized(process)
        // Read both pipes before waiting so a full pipe never blocks the child.
        let errData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Writes a file under the project folder.
    func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: root + "/" + relative, atomically: true, encoding: .utf8)
    }

    /// Removes the folder.
    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Data handed from the stderr reader thread.
final class LockedData: @unchecked Sendable {
    // @unchecked: `lock` guards both fields.
    private let lock = NSLock()
    private var value = Data()

    func set(_ d: Data) {
        lock.lock()
        value = d
        lock.unlock()
    }

    var data: Data {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
