import Foundation
import HeraldCore
import HeraldLedger

/// `herald events import` and journeys (docs/journeys.md, "How an instance moves"): imported events end and
/// answer running instances at once, as the API's do, batch by batch as they are written. An imported event
/// never starts an instance (history does not trigger), and an `exit_when` event from before the instance
/// entered does not end it.
final class ImportJourneyEvents: Sendable {
    let ledger: any DispatchLedger
    let config: HeraldConfig
    let journeys: [JourneyDefinition]
    /// Instances moved so far.
    let moved = LockedState(0)

    init(ledger: any DispatchLedger, config: HeraldConfig, journeys: [JourneyDefinition]) {
        self.ledger = ledger
        self.config = config
        self.journeys = journeys
    }

    /// The event names that can move an instance.
    var watched: Set<String> { JourneyEvents.watched(journeys) }

    /// Applies one written batch's watched events to their users' active instances.
    func apply(_ events: [EventRecord]) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        for (user, batch) in Dictionary(grouping: events, by: \.userID) {
            for i in try await ledger.activeInstances(user: user) {
                let loaded = journeys.first { $0.id == i.journey }
                // The loaded file's status governs every version: a paused or draft journey's timers hold.
                if let loaded, loaded.status == .paused || loaded.status == .draft { continue }
                guard let j = try await ledger.definition(of: i, loaded: loaded, config: config).journey,
                    let move = JourneyEvents.move(i, of: j, events: batch, now: now, sinceEntry: true)
                else { continue }
                if try await ledger.moveInstance(move.instance, expectedMoves: move.expectedMoves, records: move.records) {
                    moved.withLock { $0 += 1 }
                }
            }
        }
    }
}
