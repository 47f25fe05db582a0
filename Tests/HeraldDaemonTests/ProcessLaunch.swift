import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `process` while holding a process-wide lock (an `flock` on one file, so every test module of the
/// test binary shares it). Kept from when the tests used Foundation's `Process`, whose `run` crashed in a
/// memcpy under load (ChildProcess.swift); one launch at a time also keeps start-up bursts gentle.
func launchSerialized(_ process: ChildProcess) throws {
    let fd = open("/tmp/herald-tests-process-launch.lock", O_CREAT | O_RDWR, 0o600)
    if fd >= 0 { flock(fd, LOCK_EX) }
    defer {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }
    try process.run()
}
