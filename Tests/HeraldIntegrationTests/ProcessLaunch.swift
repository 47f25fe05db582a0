import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `process` while holding a process-wide lock (an `flock` on one file, so every test module of the
/// test binary shares it): Foundation's `Process.run` on Linux crashed twice in a memcpy when the full
/// suite launched children from several threads at once.
func launchSerialized(_ process: Process) throws {
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
