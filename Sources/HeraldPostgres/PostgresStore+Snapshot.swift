import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresStore {
    /// Builds one CSR event column while rows arrive in ascending order.
    struct CSRBuilder {
        var offsets: [Int] = [0]
        var timestamps: [Int64] = []
        var ids: [Int64] = []
        let keepIDs: Bool

        /// Closes rows up to (not including) `row`, then appends an event to `row`.
        mutating func append(row: Int, ts: Int64, id: Int64) {
            while offsets.count <= row { offsets.append(timestamps.count) }
            timestamps.append(ts)
            if keepIDs { ids.append(id) }
        }

        /// Closes every row up to `count`.
        mutating func finish(count: Int) {
            while offsets.count <= count { offsets.append(timestamps.count) }
        }
    }

    /// A columnar snapshot: every user, every declared attribute, the required event columns, all events.
    ///
    /// The same snapshot `SQLiteStore.snapshot` builds from the same rows (rows in `users.pk` order, dictionary
    /// codes in first-seen order, events in index order), read in one REPEATABLE READ transaction, so every
    /// query sees the same committed state: the users, the declared attributes, the events, and the numbers
    /// the requirements ask for — five big queries whatever the audience size, streamed row by row.
    public func snapshot(_ requirements: SnapshotRequirements) async throws -> AudienceSnapshot {
        try await read("snapshot") { conn in
            var s = AudienceSnapshot()
            var rowOf: [Int64: Int] = [:]
            var zones: [String: Int32] = [:]
            for try await (pk, id, email, phone, timezone, locale, createdAt, birthday, lastSeenAt, devices) in try await conn
                .query(
                    """
                    SELECT pk, id, email, phone, timezone, locale, created_at, birthday, last_seen_at, push_devices
                    FROM users ORDER BY pk
                    """, logger: self.logger
                ).decode((Int64, String, String?, String?, String?, String?, Int64?, String?, Int64?, Int32).self)
            {
                s.pushDevices.append(UInt8(clamping: devices))
                rowOf[pk] = s.ids.count
                s.ids.append(id)
                s.email.append(email)
                s.phone.append(phone)
                s.appendTimezone(timezone, codes: &zones)
                s.locale.append(locale)
                s.createdAt.append(createdAt ?? AudienceSnapshot.nullTime)
                s.birthday.append(
                    birthday.flatMap(TimestampParser.parseDate)?.midnightUTC ?? AudienceSnapshot.nullTime)
                s.lastSeenImported.append(lastSeenAt ?? AudienceSnapshot.nullTime)
            }
            let count = s.ids.count
            s.attributes = try await self.loadAttributes(conn, rowOf: rowOf, count: count)
            var ids: [String: [Int64]]
            (s.events, s.allEvents, ids) = try await self.loadEvents(conn, requirements, rowOf: rowOf, count: count)
            let wanted = requirements.eventNumbers.filter { !$0.value.isEmpty && ids[$0.key] != nil }
            if !wanted.isEmpty {
                let numbers = try await self.loadNumbers(conn, wanted)
                for (name, keys) in wanted {
                    guard let eventIDs = ids.removeValue(forKey: name), var column = s.events[name] else { continue }
                    for key in keys {
                        let table = numbers[key] ?? [:]
                        column.numbers[key] = eventIDs.map { table[$0] ?? .nan }
                    }
                    s.events[name] = column
                }
            }
            // Measured from the ledger, not stored here: PlanningSource.fillEngagement sets it.
            s.engagement = Array(repeating: .nan, count: count)
            return s
        }
    }

    /// One column per declared attribute; a stored value of another type becomes null (`AttributeColumnBuilder`,
    /// as SQLite's snapshot converts). Rows are read in user order, so dictionary codes match SQLite's.
    func loadAttributes(_ conn: PostgresConnection, rowOf: [Int64: Int], count: Int) async throws -> [String:
        AttributeColumn]
    {
        var builders: [Int64: AttributeColumnBuilder] = [:]
        var nameOf: [Int64: String] = [:]
        let declared = schema.names
        if !declared.isEmpty {
            for try await (id, name) in try await conn.query(
                "SELECT id, name FROM attribute_names WHERE name = ANY(\(declared)::text[])", logger: logger
            ).decode((Int64, String).self) {
                guard let type = schema[name] else { continue }
                builders[id] = AttributeColumnBuilder(type: type, count: count)
                nameOf[id] = name
            }
        }
        if !builders.isEmpty {
            let attributeIDs = Array(builders.keys)
            for try await (pk, attribute, type, number, integer, text, list) in try await conn.query(
                """
                SELECT user_pk, attribute_id, type, value_num, value_int, value_text, value_list
                FROM user_attributes WHERE attribute_id = ANY(\(attributeIDs)::bigint[])
                ORDER BY user_pk, attribute_id
                """, logger: logger
            ).decode((Int64, Int64, Int64, Double?, Int64?, String?, [String]?).self) {
                guard let row = rowOf[pk] else { continue }
                let value = AttributeArrays.decode(type: type, number: number, integer: integer, text: text, list: list)
                if value.isNull { continue }
                builders[attribute]?.set(row: row, value)
            }
        }
        var attributes: [String: AttributeColumn] = [:]
        for (id, b) in builders { if let name = nameOf[id] { attributes[name] = b.finish() } }
        for (name, type) in schema.types where attributes[name] == nil {
            attributes[name] = AttributeColumnBuilder(type: type, count: count).finish()
        }
        return attributes
    }

    /// The required event columns (without numbers) and the all-events column, from one scan in index order
    /// (user, name, time, identity). `ids` holds the event ids of the stored names that need numbers, aligned
    /// with their columns.
    func loadEvents(
        _ conn: PostgresConnection, _ req: SnapshotRequirements, rowOf: [Int64: Int], count: Int
    ) async throws -> (events: [String: EventColumn], allEvents: EventColumn, ids: [String: [Int64]]) {
        var builders: [Int64: CSRBuilder] = [:]
        var nameOf: [Int64: String] = [:]
        for try await (id, name) in try await conn.query("SELECT id, name FROM event_names", logger: logger)
            .decode((Int64, String).self) where req.events.contains(name)
        {
            builders[id] = CSRBuilder(keepIDs: !(req.eventNumbers[name] ?? []).isEmpty)
            nameOf[id] = name
        }
        var all = CSRBuilder(keepIDs: false)
        var currentRow = -1
        var runStart = 0
        var unsorted = false
        for try await (pk, nameID, millis, id) in try await conn.query(
            "SELECT user_pk, name_id, ts, id FROM events ORDER BY user_pk, name_id, ts, identity", logger: logger
        ).decode((Int64, Int64, Int64, Int64).self) {
            guard let row = rowOf[pk] else { continue }
            let ts = Self.seconds(millis: millis)
            if row != currentRow {
                if unsorted { all.timestamps[runStart...].sort() }
                all.finish(count: row)
                runStart = all.timestamps.count
                currentRow = row
                unsorted = false
            } else if let last = all.timestamps.last, ts < last {
                unsorted = true
            }
            all.append(row: row, ts: ts, id: 0)
            builders[nameID]?.append(row: row, ts: ts, id: id)
        }
        if unsorted { all.timestamps[runStart...].sort() }
        all.finish(count: count)
        var events: [String: EventColumn] = [:]
        var ids: [String: [Int64]] = [:]
        for (nameID, built) in builders {
            guard let name = nameOf[nameID] else { continue }
            var b = built
            b.finish(count: count)
            events[name] = EventColumn(offsets: b.offsets, timestamps: b.timestamps)
            if b.keepIDs { ids[name] = b.ids }
        }
        for name in req.events where events[name] == nil {
            events[name] = EventColumn(offsets: Array(repeating: 0, count: count + 1), timestamps: [])
        }
        return (events, EventColumn(offsets: all.offsets, timestamps: all.timestamps), ids)
    }

    /// The numeric properties `wanted` asks for, by property and event id, for events of those names: one query.
    func loadNumbers(_ conn: PostgresConnection, _ wanted: [String: Set<String>]) async throws -> [String: [Int64:
        Double]]
    {
        let names = Array(wanted.keys)
        let keys = Array(wanted.values.reduce(into: Set<String>()) { $0.formUnion($1) })
        var out: [String: [Int64: Double]] = [:]
        for try await (eventID, key, value) in try await conn.query(
            """
            SELECT v.event_id, k.name, v.value FROM event_numbers v
            JOIN property_keys k ON k.id = v.key_id
            JOIN events e ON e.id = v.event_id JOIN event_names n ON n.id = e.name_id
            WHERE k.name = ANY(\(keys)::text[]) AND n.name = ANY(\(names)::text[])
            """, logger: logger
        ).decode((Int64, String, Double).self) {
            out[key, default: [:]][eventID] = value
        }
        return out
    }
}
