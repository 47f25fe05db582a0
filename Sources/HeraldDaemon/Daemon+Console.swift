import HeraldConsole
import HeraldDelivery
import Logging

extension Daemon {
    /// What the web console reads from this daemon: its store, ledger and live book, and read-only copies of
    /// the current provider gates (docs/console.md).
    func console(token: String?) -> ConsoleDependencies {
        ConsoleDependencies(
            store: store, ledger: ledger, book: { [book] in book.current }, token: token,
            publicURL: book.current.config.api.publicURL,
            gates: { [dispatcher] in dispatcher.gateSnapshots() },
            logger: Logger(label: "herald.console"))
    }
}

extension Dispatcher {
    /// A copy of each provider gate of the senders in force (a reload swaps them), outbox gates left out.
    public func gateSnapshots() -> [(key: GateKey, gate: ProviderGate)] {
        let senders = self.senders.withLock { $0 }
        return senders.gates.filter { !senders.usesOutbox($0.key) }.map { (key: $0.key, gate: $0.value.snapshot) }
    }
}
