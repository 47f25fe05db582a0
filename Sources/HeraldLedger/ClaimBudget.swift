import HeraldCore

/// The order and sizes in which one claim takes due rows, the same on every backend (docs/ledger.md): first
/// rows whose lease expired (a crashed dispatcher's sends), then due rows of channels without a per-claim cap,
/// then each capped channel up to its cap, while the claim's limit has room. A rate-limited provider so gets
/// only what it can send soon; the rest stay `scheduled`, untouched, instead of being claimed and handed back.
///
/// A backend walks it: `while let (phase, room) = budget.next() { budget.took(select(phase, room)) }`.
public struct ClaimBudget: Sendable {
    /// One step of a claim.
    public enum Phase: Sendable, Hashable {
        /// Rows left `sending` whose lease expired, oldest lease first.
        case expiredLeases
        /// Due `scheduled`/`failed` rows of any channel not in `excluding` (rows without a channel included).
        case uncapped(excluding: [ChannelKind])
        /// Due rows of one capped channel.
        case channel(ChannelKind)
    }

    private var phases: [Phase]
    private let caps: [ChannelKind: Int]
    private let limit: Int
    private var taken = 0

    /// A claim of at most `limit` rows, at most `perChannel[c]` of channel `c`.
    public init(limit: Int, perChannel: [ChannelKind: Int]) {
        self.limit = limit
        caps = perChannel
        let capped = perChannel.keys.sorted { $0.rawValue < $1.rawValue }
        phases = [.expiredLeases, .uncapped(excluding: capped)] + capped.map(Phase.channel)
    }

    /// The next phase and how many rows it may take; nil when the claim is full or every phase ran.
    public mutating func next() -> (phase: Phase, room: Int)? {
        while !phases.isEmpty {
            let phase = phases.removeFirst()
            var room = limit - taken
            if case .channel(let c) = phase { room = min(room, caps[c] ?? 0) }
            if room > 0 { return (phase, room) }
            if limit - taken <= 0 { return nil }
        }
        return nil
    }

    /// Records that the last phase took `count` rows.
    public mutating func took(_ count: Int) { taken += count }
}
