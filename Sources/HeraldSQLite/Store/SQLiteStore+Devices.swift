import GRDB
import HeraldCore
import HeraldLedger

/// The push device registry on SQLite (docs/push.md).
extension SQLiteStore: DeviceStore {
    @discardableResult
    public func registerDevices(_ devices: [DeviceRegistration], at: Int64) async throws -> Int {
        guard !devices.isEmpty else { return 0 }
        return try await pool.write { db in
            // Not the events path's text: a cached statement is shared by its SQL text, and that path binds its
            // copy through `RawStatement`, which must not meet bindings left by GRDB's `execute(arguments:)`.
            let createUser = try db.cachedStatement(
                sql: """
                    INSERT INTO users(id, created_at, created_by_event, inserted_at, updated_at)
                    VALUES (?1, ?2, 1, ?2, ?2) ON CONFLICT(id) DO NOTHING
                    """)
            let previous = try db.cachedStatement(sql: "SELECT user_id FROM devices WHERE token = ?")
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO devices(token, user_id, platform, p256dh, auth, active, registered_at)
                    VALUES (?, ?, ?, ?, ?, 1, ?)
                    ON CONFLICT(token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
                      p256dh = excluded.p256dh, auth = excluded.auth, active = 1,
                      registered_at = excluded.registered_at, deactivated_reason = NULL, deactivated_at = NULL
                    """)
            var touched: Set<String> = []
            for d in devices {
                try createUser.execute(arguments: [d.userID, at])
                if let owner = try String.fetchOne(previous, arguments: [d.token]) { touched.insert(owner) }
                try upsert.execute(arguments: [d.token, d.userID, d.platform.rawValue, d.p256dh, d.auth, at])
                touched.insert(d.userID)
            }
            try Self.recount(db, users: touched)
            try recordChange(db, kind: "devices", userID: devices.count == 1 ? devices[0].userID : nil, rows: devices.count)
            return devices.count
        }
    }

    @discardableResult
    public func removeDevice(token: String) async throws -> Bool {
        try await pool.write { db in
            guard let owner = try String.fetchOne(db, sql: "SELECT user_id FROM devices WHERE token = ?", arguments: [token])
            else { return false }
            try db.execute(sql: "DELETE FROM devices WHERE token = ?", arguments: [token])
            try Self.recount(db, users: [owner])
            try recordChange(db, kind: "devices", userID: owner, rows: 1)
            return true
        }
    }

    @discardableResult
    public func deactivateDevice(token: String, reason: String, since: Int64?, at: Int64) async throws -> Bool {
        try await pool.write { db in
            guard let owner = try String.fetchOne(db, sql: "SELECT user_id FROM devices WHERE token = ?", arguments: [token])
            else { return false }
            try db.execute(
                sql: """
                    UPDATE devices SET active = 0, deactivated_reason = ?, deactivated_at = ?
                    WHERE token = ? AND active = 1 AND (? IS NULL OR registered_at <= ?)
                    """, arguments: [reason, at, token, since, since])
            guard db.changesCount > 0 else { return false }
            try Self.recount(db, users: [owner])
            try recordChange(db, kind: "devices", userID: owner, rows: 1)
            return true
        }
    }

    public func devices(userID: String) async throws -> [RegisteredDevice] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "\(Self.deviceColumns) WHERE user_id = ? ORDER BY registered_at DESC, token",
                arguments: [userID]
            ).compactMap(Self.device)
        }
    }

    public func activeDevices(users: [String], limit: Int) async throws -> [String: [RegisteredDevice]] {
        guard !users.isEmpty else { return [:] }
        return try await pool.read { db in
            var out: [String: [RegisteredDevice]] = [:]
            let stmt = try db.cachedStatement(
                sql: "\(Self.deviceColumns) WHERE user_id = ? AND active = 1 ORDER BY registered_at DESC, token LIMIT ?")
            for user in Set(users) {
                let found = try Row.fetchAll(stmt, arguments: [user, limit]).compactMap(Self.device)
                if !found.isEmpty { out[user] = found }
            }
            return out
        }
    }

    static let deviceColumns = """
        SELECT user_id, platform, token, p256dh, auth, active, registered_at, deactivated_reason, deactivated_at
        FROM devices
        """

    /// A device row read with `deviceColumns`; nil for a platform this version does not know.
    static func device(_ r: Row) -> RegisteredDevice? {
        guard let platform = DevicePlatform(rawValue: r[1]) else { return nil }
        return RegisteredDevice(
            registration: DeviceRegistration(userID: r[0], platform: platform, token: r[2], p256dh: r[3], auth: r[4]),
            active: (r[5] as Int64) != 0, registeredAt: r[6], deactivatedReason: r[7], deactivatedAt: r[8])
    }

    /// Sets `users.push_devices` of `users` to their count of active devices.
    static func recount(_ db: Database, users: Set<String>) throws {
        let stmt = try db.cachedStatement(
            sql: """
                UPDATE users SET push_devices = (SELECT count(*) FROM devices WHERE user_id = users.id AND active = 1)
                WHERE id = ?
                """)
        for user in users { try stmt.execute(arguments: [user]) }
    }
}
