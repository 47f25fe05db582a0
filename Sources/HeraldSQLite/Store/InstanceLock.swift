import Foundation
import HeraldLedger

#if canImport(Glibc)
    import Glibc
#endif

/// The exclusive lock beside a SQLite store (`STORE.heraldd.lock`): one heraldd per SQLite store, and no
/// heraldd while `herald store migrate` copies it. Released when the process exits, however it exits.
public final class InstanceLock: Sendable {
    private let fd: Int32

    /// The lock file of the SQLite store at `storePath`.
    public static func path(forStore storePath: String) -> String { storePath + ".heraldd.lock" }

    /// Takes the lock on `path`; nil when another process holds it. Throws when the lock file cannot be
    /// opened or created (a missing or read-only folder).
    public init?(path: String) throws {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
