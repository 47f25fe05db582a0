import HeraldCore
import HeraldLedger

import PostgresNIO

/// The push device registry on PostgreSQL (docs/push.md). Every write locks the device rows it touches, then
/// their users, in key order, before it counts a user's active devices: two daemons registering or deactivating
/// devices of one user at once cannot leave `users.push_devices` off by one.
extension PostgresStore: DeviceStore {
    @discardableResult
    public func registerDevices(_ devices: [DeviceRegistration], at: Int64) async throws -> Int {
        guard !devices.isEmpty else { return 0 }
        let tokens = devices.map(\.token)
        let users = devices.map(\.userID)
        return try await write("registerDevices") { conn in
            var touched = Set(users)
            for try await owner in try await conn.query(
                "SELECT user_id FROM devices WHERE token = ANY(\(tokens)::text[]) ORDER BY token FOR UPDATE",
                logger: logger
            ).decode(String.self) { touched.insert(owner) }
            try await conn.query(
                """
                INSERT INTO users(id, created_at, created_by_event, inserted_at, updated_at)
                SELECT DISTINCT id, \(at)::bigint, true, \(at)::bigint, \(at)::bigint FROM unnest(\(users)::text[]) AS t(id)
                ORDER BY id ON CONFLICT (id) DO NOTHING
                """, logger: logger)
            try await self.lockUsers(conn, touched)
            for d in devices {
                try await conn.query(
                    """
                    INSERT INTO devices(token, user_id, platform, p256dh, auth, active, registered_at)
                    VALUES (\(d.token), \(d.userID), \(d.platform.rawValue), \(d.p256dh), \(d.auth), true, \(at))
                    ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
                      p256dh = excluded.p256dh, auth = excluded.auth, active = true,
                      registered_at = excluded.registered_at, deactivated_reason = NULL, deactivated_at = NULL
                    """, logger: logger)
            }
            try await self.recount(conn, touched)
            try await self.recordChange(conn, kind: "devices", userID: devices.count == 1 ? users[0] : nil,
                                        rows: devices.count)
            return devices.count
        }
    }

    @discardableResult
    public func removeDevice(token: String) async throws -> Bool {
        try await write("removeDevice") { conn in
            guard let owner = try await self.lockOwner(conn, token) else { return false }
            try await self.lockUsers(conn, [owner])
            try await conn.query("DELETE FROM devices WHERE token = \(token)", logger: logger)
            try await self.recount(conn, [owner])
            try await self.recordChange(conn, kind: "devices", userID: owner, rows: 1)
            return true
        }
    }

    @discardableResult
    public func deactivateDevice(token: String, reason: String, since: Int64?, at: Int64) async throws -> Bool {
        try await write("deactivateDevice") { conn in
            guard let owner = try await self.lockOwner(conn, token) else { return false }
            try await self.lockUsers(conn, [owner])
            var changed = false
            for try await _ in try await conn.query(
                """
                UPDATE devices SET active = false, deactivated_reason = \(reason), deactivated_at = \(at)
                WHERE token = \(token) AND active AND (\(since)::bigint IS NULL OR registered_at <= \(since)::bigint)
                RETURNING token
                """, logger: logger
            ).decode(String.self) { changed = true }
            guard changed else { return false }
            try await self.recount(conn, [owner])
            try await self.recordChange(conn, kind: "devices", userID: owner, rows: 1)
            return true
        }
    }

    public func devices(userID: String) async throws -> [RegisteredDevice] {
        try await read("devices") { conn in
            try await self.deviceRows(conn, users: [userID], activeOnly: false, limit: Int.max)[userID] ?? []
        }
    }

    public func activeDevices(users: [String], limit: Int) async throws -> [String: [RegisteredDevice]] {
        guard !users.isEmpty else { return [:] }
        return try await read("activeDevices") { conn in
            try await self.deviceRows(conn, users: users, activeOnly: true, limit: limit)
        }
    }

    /// Devices of `users`, newest first, at most `limit` per user.
    private func deviceRows(_ conn: PostgresConnection, users: [String], activeOnly: Bool, limit: Int) async throws
        -> [String: [RegisteredDevice]]
    {
        var out: [String: [RegisteredDevice]] = [:]
        let rows = try await conn.query(
            """
            SELECT user_id, platform, token, p256dh, auth, active, registered_at, deactivated_reason, deactivated_at
            FROM devices WHERE user_id = ANY(\(Array(Set(users)))::text[]) AND (active OR NOT \(activeOnly))
            ORDER BY user_id, registered_at DESC, token
            """, logger: logger)
        for try await (user, platform, token, p256dh, auth, active, registeredAt, reason, deactivatedAt) in rows.decode(
            (String, String, String, String?, String?, Bool, Int64, String?, Int64?).self)
        {
            guard let platform = DevicePlatform(rawValue: platform), out[user, default: []].count < limit else { continue }
            out[user, default: []].append(RegisteredDevice(
                registration: DeviceRegistration(userID: user, platform: platform, token: token, p256dh: p256dh,
                                                 auth: auth),
                active: active, registeredAt: registeredAt, deactivatedReason: reason, deactivatedAt: deactivatedAt))
        }
        return out
    }

    /// The owner of `token`, its device row locked; nil when unknown.
    private func lockOwner(_ conn: PostgresConnection, _ token: String) async throws -> String? {
        var owner: String?
        for try await user in try await conn.query(
            "SELECT user_id FROM devices WHERE token = \(token) FOR UPDATE", logger: logger
        ).decode(String.self) { owner = user }
        return owner
    }

    /// Locks the `users` rows of `ids`, in id order.
    private func lockUsers(_ conn: PostgresConnection, _ ids: Set<String>) async throws {
        try await conn.query(
            "SELECT pk FROM users WHERE id = ANY(\(ids.sorted())::text[]) ORDER BY id FOR UPDATE", logger: logger)
    }

    /// Sets `users.push_devices` of `ids` to their count of active devices.
    private func recount(_ conn: PostgresConnection, _ ids: Set<String>) async throws {
        try await conn.query(
            """
            UPDATE users u SET push_devices = (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active)
            WHERE u.id = ANY(\(ids.sorted())::text[])
            """, logger: logger)
    }
}
