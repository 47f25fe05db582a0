import Foundation
import HeraldCore
import HeraldLedger
import Logging
import ServiceLifecycle

/// Keeps this daemon's share of the shards when several daemons share one PostgreSQL store (docs/architecture.md).
///
/// Every second it renews its membership and shard leases and rebalances (`DispatchLedger.balanceShards`):
/// a daemon that joins takes free shards, the others give back what exceeds a fair share, and a daemon that
/// stops renewing (killed, partitioned) loses its shards once its lease ends. The dispatcher claims only rows
/// of the shards held, and stops claiming a little before the lease would end if it could not renew: one user's
/// sends are decided by one daemon at a time, so per-user caps stay exact. The holder of shard 0 plans scheduled
/// occurrences (each is recorded once in any case: the occurrence record is unique).
public final class ShardKeeper: Sendable {
    let ledger: any DispatchLedger
    let owner: String
    let clock: DaemonClock
    let logger: Logger
    /// How long a renewal holds, seconds.
    public let lease: Int64
    private let state = LockedState(State())

    struct State {
        var current: ShardLease?
        var members = 0
    }

    /// A keeper for `owner`.
    public init(ledger: any DispatchLedger, owner: String, clock: DaemonClock, lease: Int64, logger: Logger) {
        self.ledger = ledger
        self.owner = owner
        self.clock = clock
        self.lease = max(3, lease)
        self.logger = logger
    }

    /// How often the keeper renews and rebalances: shards of a dead daemon are owned again at most `lease + round`
    /// after it died.
    public let round = Duration.seconds(1)

    /// Seconds before a lease ends at which the dispatcher stops claiming (the renewal is late).
    public var margin: Int64 { max(1, lease / 5) }

    /// The shards the dispatcher may claim from now: empty when none is held or the lease is about to end.
    public func claimable(now: Int64) -> [Int] {
        state.withLock { s in
            guard let c = s.current, c.until - margin > now else { return [] }
            return c.shards
        }
    }

    /// True while this daemon holds shard 0 (with time to spare): it plans scheduled occurrences.
    public func isPlanner(now: Int64) -> Bool {
        state.withLock { s in
            guard let c = s.current, c.until - margin > now else { return false }
            return c.isPlanner
        }
    }

    /// What is held now, for the status line.
    public var current: ShardLease? { state.withLock { $0.current } }

    /// Renews and rebalances once; logs changes of the shard set. When a member left since the last round,
    /// the row leases its dispatcher held are ended so that its rows are claimed again at once.
    @discardableResult
    public func renew() async throws -> ShardLease {
        let now = clock.seconds
        let new = try await ledger.balanceShards(owner: owner, now: now, lease: lease)
        let (old, oldMembers) = state.withLock { s -> (ShardLease?, Int) in
            defer {
                s.current = new
                s.members = new.members
            }
            return (s.current, s.members)
        }
        if old?.shards != new.shards || oldMembers != new.members {
            logger.info(
                "shards: \(new.shards.count) of \(Shards.count) held, \(new.members) daemon(s) alive",
                metadata: ["planner": "\(new.isPlanner)", "owner": "\(owner)"])
        }
        if old == nil || new.members < oldMembers {
            let released = try await ledger.releaseLeases(notOwnedBy: owner)
            if released > 0 { logger.warning("reclaiming \(released) sends left in flight by a daemon that is gone") }
        }
        return new
    }

    /// Gives every shard back (a clean stop): the others take them at their next round.
    public func release() async {
        do {
            try await ledger.releaseShards(owner: owner)
            state.withLock { $0.current = nil }
            logger.info("shards released", metadata: ["owner": "\(owner)"])
        } catch {
            logger.error("could not release shards; they move when the lease ends", metadata: ["error": "\(error)"])
        }
    }
}

/// Runs the keeper until shutdown; listed first in the group, so it stops last (after the dispatchers drained)
/// and then gives its shards back.
struct ShardKeeperService: Service, CustomStringConvertible {
    let keeper: ShardKeeper
    let wakeup: Wakeup
    let logger: Logger
    var description: String { "shard-keeper" }

    func run() async throws {
        let own = Wakeup()
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    let before = keeper.current?.shards
                    let now = try await keeper.renew()
                    if now.shards != before { wakeup.signal() }
                } catch {
                    logger.error("shard lease renewal failed; retrying", metadata: ["error": "\(error)"])
                }
                // Every second: a dead daemon's shards are taken at most a second after its lease ends.
                await own.wait(timeout: keeper.round)
            }
        } onGracefulShutdown: {
            own.signal()
        }
        await keeper.release()
    }
}
