import HeraldConsole
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging

extension Daemon {
    /// What the web console reads from this daemon: its store, ledger and live book, and read-only copies of
    /// the current provider gates (docs/console.md).
    func console(token: String?) -> ConsoleDependencies {
        ConsoleDependencies(
            store: store, ledger: ledger, book: { [book] in book.current }, token: token,
            publicURL: book.current.config.api.publicURL,
            gates: { [dispatcher] in dispatcher.gateSnapshots() },
            rollout: { [book, ledger] id in
                guard let c = book.current.campaign(id) else { return nil }
                return try await Self.rolloutView(c, ledger: ledger, controls: book.current.controls)
            },
            logger: Logger(label: "herald.console"))
    }

    /// Where a campaign's staged release stands, from the ledger's stage records (docs/experiments.md): for a
    /// one-shot campaign its latest occurrence's waves, for an event or recurring campaign its releases.
    static func rolloutView(_ c: Campaign, ledger: any DispatchLedger, controls: CampaignControls) async throws
        -> RolloutView?
    {
        guard let rollout = c.rollout else { return nil }
        var started: [Int: Int64] = [:]
        if Scheduler.isOneShot(c) {
            let records = try await ledger.occurrences(campaign: c.id, prefix: "")
            let bases = records.filter { !$0.occurrence.contains("~") && $0.occurrence != OccurrenceRecord.activationID }
            if let base = bases.last {
                started[1] = base.start
                for r in records where r.occurrence.hasPrefix(base.occurrence + Scheduler.stageMarker) {
                    if let k = Int(r.occurrence.dropFirst((base.occurrence + Scheduler.stageMarker).count)) { started[k] = r.start }
                }
            }
        } else {
            for r in try await ledger.occurrences(campaign: c.id, prefix: Scheduler.releasePrefix) {
                if let k = Int(r.occurrence.dropFirst(Scheduler.releasePrefix.count)) { started[k] = r.start }
            }
        }
        let released = started.keys.max() ?? 0
        let stages = rollout.stages.shares.enumerated().map { i, share in
            RolloutView.Stage(
                percent: share * 100, state: i + 1 < released ? "done" : i + 1 == released ? "current" : "waiting",
                startedAt: started[i + 1])
        }
        let halt = controls.haltedRollouts[c.id].map { note in
            "by \(note.by) at \(TimestampParser.formatUTC(seconds: note.at))" + (note.reason.map { ": \($0)" } ?? "")
        }
        return RolloutView(stages: stages, halt: halt)
    }
}

extension Dispatcher {
    /// A copy of each provider gate of the senders in force (a reload swaps them), outbox gates left out.
    public func gateSnapshots() -> [(key: GateKey, gate: ProviderGate)] {
        let senders = self.senders.withLock { $0 }
        return senders.gates.filter { !senders.usesOutbox($0.key) }.map { (key: $0.key, gate: $0.value.snapshot) }
    }
}
