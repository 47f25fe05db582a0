import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process for the tests, started with `posix_spawn` and reaped with `waitpid`: the part of Foundation's
/// `Process` the tests use, without its manager thread and run-loop sources. Under the full suite's load
/// Foundation's `Process.run` crashed inside a memcpy (four times, even with every launch serialised); this
/// launcher shares no state between children. Each test target links this one file (a symlink).
///
/// The child gets its own process group, a default signal mask and dispositions (a test runner may block
/// SIGTERM), and no descriptor of the test process other than stdin/stdout/stderr.
final class ChildProcess: @unchecked Sendable {
    /// Why the child ended.
    enum TerminationReason { case exit, uncaughtSignal }

    var executableURL: URL?
    var arguments: [String] = []
    /// The child's environment; nil: the environment the test process started with.
    var environment: [String: String]?
    var currentDirectoryURL: URL?
    /// A `FileHandle` or `Pipe`; nil inherits the test process's.
    var standardInput: Any?
    var standardOutput: Any?
    var standardError: Any?

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var waitStatus: Int32?

    /// The environment read once, before any child starts (the tests never change it).
    private static let startEnvironment = ProcessInfo.processInfo.environment

    init() {}

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `…_addchdir_np` (2.29), which the Glibc
    /// module does not declare without _GNU_SOURCE.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addCloseFrom: CloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }
    private static let addChdir: Chdir? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: Chdir.self) }

    var processIdentifier: Int32 { lock.withLock { pid } }

    /// Starts the child; throws when it cannot be spawned.
    func run() throws {
        guard let path = executableURL?.path else { throw CocoaError(.fileNoSuchFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child's end of each pipe, which the parent closes once the child has it.
        var childEnds: [FileHandle] = []
        for (target, value) in [(Int32(0), standardInput), (1, standardOutput), (2, standardError)] {
            var handle = value as? FileHandle
            if let pipe = value as? Pipe {
                handle = target == 0 ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                childEnds.append(handle!)
            }
            if let handle { posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target) }
        }
        guard let closeFrom = Self.addCloseFrom, let chdir = Self.addChdir else {
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSYS))
        }
        _ = closeFrom(&actions, 3)
        if let dir = currentDirectoryURL?.path { _ = chdir(&actions, dir) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? Self.startEnvironment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            env.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, env)
        guard result == 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(result)) }
        lock.withLock { pid = child }
        for handle in childEnds { try? handle.close() }
    }

    /// Reaps the child if it has ended (without blocking); true once it has.
    @discardableResult
    private func reap() -> Bool {
        lock.withLock {
            if waitStatus != nil { return true }
            guard pid > 0 else { return false }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { waitStatus = status }
            return waitStatus != nil
        }
    }

    var isRunning: Bool { processIdentifier > 0 && !reap() }

    /// Waits for the child to end (polling every 10 ms: no thread blocks in waitpid holding the lock).
    func waitUntilExit() {
        while !reap() { usleep(10_000) }
    }

    private var status: Int32 { lock.withLock { waitStatus ?? 0 } }

    /// The exit code, or the signal that ended it.
    var terminationStatus: Int32 {
        let s = status
        return s & 0x7f == 0 ? (s >> 8) & 0xff : s & 0x7f
    }

    var terminationReason: TerminationReason { status & 0x7f == 0 ? .exit : .uncaughtSignal }

    /// Sends SIGTERM.
    func terminate() {
        let p = processIdentifier
        if p > 0 { kill(p, SIGTERM) }
    }
}
