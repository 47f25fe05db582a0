import HeraldLedger
import PostgresNIO

extension PostgresLedger {
    /// Renews `owner`'s membership and shard leases until `now + lease` and rebalances, in one transaction:
    /// members whose membership ended before `now` are removed; with `n` live members the fair share is
    /// ⌈`Shards.count` / n⌉; an owner holding more gives back its highest-numbered extras, one holding fewer
    /// takes free or expired shards, lowest first (`FOR UPDATE SKIP LOCKED`: a shard another daemon is taking
    /// or renewing right now is passed over). Repeated by every daemon, the shards converge to a disjoint
    /// cover shared near evenly; a daemon that stops renewing loses its shards once its lease has passed.
    /// Shard 0's holder is the planner (`ShardLease.isPlanner`).
    public func balanceShards(owner: String, now: Int64, lease: Int64) async throws -> ShardLease {
        let until = now + lease
        return try await write("balance shards") { conn in
            try await conn.query(
                """
                INSERT INTO daemon_members(owner, until, started_at) VALUES (\(owner), \(until), \(now))
                ON CONFLICT (owner) DO UPDATE SET until = excluded.until
                """, logger: self.logger)
            try await conn.query("DELETE FROM daemon_members WHERE until < \(now)", logger: self.logger)
            let live = max(
                1,
                Int(
                    try await self.scalar(
                        Int64.self, "SELECT count(*) FROM daemon_members WHERE until >= \(now)", conn) ?? 1))
            let fair = (Shards.count + live - 1) / live
            var held = try await self.rows(
                """
                UPDATE shard_leases SET lease_until = \(until) WHERE owner = \(owner) RETURNING shard
                """, conn
            ).map { Int(try $0.decode(Int16.self)) }.sorted()
            if held.count > fair {
                let extras = held[fair...].map { Int16($0) }
                try await conn.query(
                    """
                    UPDATE shard_leases SET owner = NULL, lease_until = NULL
                    WHERE owner = \(owner) AND shard = ANY(\(Array(extras))::smallint[])
                    """, logger: self.logger)
                held.removeLast(held.count - fair)
            } else if held.count < fair {
                let taken = try await self.rows(
                    """
                    WITH free AS (
                      SELECT shard FROM shard_leases WHERE owner IS NULL OR lease_until IS NULL OR lease_until < \(now)
                      ORDER BY shard LIMIT \(Int64(fair - held.count)) FOR UPDATE SKIP LOCKED)
                    UPDATE shard_leases s SET owner = \(owner), lease_until = \(until)
                    FROM free WHERE s.shard = free.shard RETURNING s.shard
                    """, conn
                ).map { Int(try $0.decode(Int16.self)) }
                held = (held + taken).sorted()
            }
            return ShardLease(shards: held, until: until, members: live)
        }
    }

    /// Gives back every shard `owner` holds and ends its membership (a clean shutdown): the others take its
    /// shards on their next balance, and its row leases become releasable.
    public func releaseShards(owner: String) async throws {
        try await write("release shards") { conn in
            try await conn.query(
                "UPDATE shard_leases SET owner = NULL, lease_until = NULL WHERE owner = \(owner)",
                logger: self.logger)
            try await conn.query("DELETE FROM daemon_members WHERE owner = \(owner)", logger: self.logger)
        }
    }
}
