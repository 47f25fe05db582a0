import ServiceLifecycle
import UnixSignals

/// Reloads config and campaigns on every SIGHUP until the group shuts down, telling systemd
/// `RELOADING=1` then `READY=1` (also when the reload was refused and the old set stays live).
struct ReloadService: Service, CustomStringConvertible {
    /// SIGHUPs, trapped before the group starts so that an early one cannot end the process.
    let hangups: UnixSignalsSequence
    let notifier: SystemdNotifier
    let reload: @Sendable () -> Bool

    var description: String { "reload-on-sighup" }

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            notifier.reloading()
            let ok = reload()
            notifier.send([("READY", "1"), ("STATUS", ok ? "reloaded" : "reload refused; previous config live")])
        }
    }
}
