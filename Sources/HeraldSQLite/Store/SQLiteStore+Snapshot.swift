import GRDB
import HeraldCore
import HeraldLedger

/// users.pk → snapshot row, dense array when pks are dense (they are: users are never deleted).
struct RowMap {
    private var dense: [Int32] = []
    private var sparse: [Int64: Int32] = [:]

    /// A map for `maxPK` over `count` users.
    init(maxPK: Int64, count: Int) {
        if maxPK < Int64(count) * 4 + 1_000_000 { dense = Array(repeating: -1, count: Int(maxPK) + 1) }
    }

    /// Sets the row of `pk`.
    mutating func set(_ pk: Int64, _ row: Int) {
        if dense.isEmpty { sparse[pk] = Int32(row) } else { dense[Int(pk)] = Int32(row) }
    }

    /// The row of `pk`, or -1.
    @inline(__always) func row(_ pk: Int64) -> Int {
        if dense.isEmpty { return Int(sparse[pk] ?? -1) }
        return pk >= 0 && pk < dense.count ? Int(dense[Int(pk)]) : -1
    }
}

/// Builds one CSR event column while rows arrive in ascending order.
struct ColumnBuilder {
    var offsets: [Int] = [0]
    var timestamps: [Int64] = []
    var ids: [Int64] = []
    let keepIDs: Bool

    /// Closes rows up to (not including) `row`, then appends an event to `row`.
    @inline(__always) mutating func append(row: Int, ts: Int64, id: Int64) {
        while offsets.count <= row { offsets.append(timestamps.count) }
        timestamps.append(ts)
        if keepIDs { ids.append(id) }
    }

    /// Closes every row up to `count`.
    mutating func finish(count: Int) {
        while offsets.count <= count { offsets.append(timestamps.count) }
    }
}

/// The users' primary keys as read by a snapshot's first, key-only scan: the pk → row map and the part cuts.
struct UserKeys: Sendable {
    /// users.pk → snapshot row.
    let map: RowMap
    /// Number of users (rows).
    let count: Int
    /// The largest pk seen; users added later have larger ones.
    let maxPK: Int64
    /// pks in row order.
    let pks: [Int64]
}

extension SQLiteStore {
    /// A columnar snapshot: every user, every declared attribute, the required event columns, all events.
    ///
    /// A key-only scan of the users comes first (it gives the pk → row map and is cheap); then the
    /// users' columns, the attributes and the events, in `snapshotParts` ranges of users, load at the
    /// same time on their own reader connections. Users are never deleted and new ones get larger
    /// pks, so the users with pk ≤ the largest pk seen are the same rows in every one of those reads;
    /// a write committed in between can at most add users, events or attributes this snapshot does
    /// not have, and those are skipped.
    public func snapshot(_ requirements: SnapshotRequirements) async throws -> AudienceSnapshot {
        let keys = try await pool.read { db in try self.loadUserKeys(db) }
        // The users' read is the shortest, so it also reads the number tables (joined to the events'
        // ids once these are known) rather than take one more of the pool's reader connections.
        async let withUsers = pool.read { db in
            var s = AudienceSnapshot()
            try self.loadUsers(db, keys: keys, into: &s)
            return (s, try self.loadNumberTables(db, requirements))
        }
        async let withAttributes = pool.read { db in
            try self.loadAttributes(db, map: keys.map, count: keys.count)
        }
        async let withEvents = loadEvents(requirements, keys: keys, parts: snapshotParts)
        let (users, tables) = try await withUsers
        var s = users
        s.attributes = try await withAttributes
        var ids: [String: [Int64]]
        (s.events, s.allEvents, ids) = try await withEvents
        for (name, keys) in requirements.eventNumbers where !keys.isEmpty {
            // Names with numbers whose ids were kept (those stored at all).
            guard let eventIDs = ids.removeValue(forKey: name), s.events[name] != nil else { continue }
            s.events[name]!.numbers = try await numbers(of: eventIDs, keys: keys, tables: tables[name] ?? [:])
        }
        // Measured from the ledger, not stored here: PlanningSource.fillEngagement sets it.
        s.engagement = Array(repeating: .nan, count: s.count)
        return s
    }

    /// The users' pks in pk order (rows follow it), from the rowid alone: no record is decoded.
    func loadUserKeys(_ db: Database) throws -> UserKeys {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
        let maxPK = try Int64.fetchOne(db, sql: "SELECT coalesce(max(pk), 0) FROM users") ?? 0
        var map = RowMap(maxPK: maxPK, count: count)
        var pks: [Int64] = []
        pks.reserveCapacity(count)
        let stmt = try db.makeStatement(sql: "SELECT pk FROM users ORDER BY pk")
        let r = RawStatement(db, stmt)
        while try r.step() {
            let pk = r.int64(0)
            map.set(pk, pks.count)
            pks.append(pk)
        }
        withExtendedLifetime(stmt) {}
        return UserKeys(map: map, count: pks.count, maxPK: pks.last ?? 0, pks: pks)
    }

    /// Fills ids and reserved columns for the users of `keys`, in pk order (so in row order).
    func loadUsers(_ db: Database, keys: UserKeys, into s: inout AudienceSnapshot) throws {
        let count = keys.count
        for k in [\AudienceSnapshot.createdAt, \.lastSeenImported, \.birthday] {
            s[keyPath: k].reserveCapacity(count)
        }
        s.ids.reserveCapacity(count)
        var zones: [String: Int32] = [:]
        let stmt = try db.makeStatement(
            sql: """
                SELECT pk, id, email, phone, timezone, locale, created_at, birthday, last_seen_at, push_devices
                FROM users WHERE pk <= ? ORDER BY pk
                """)
        stmt.arguments = [keys.maxPK]
        let r = RawStatement(db, stmt)
        func time(_ i: Int32) -> Int64 { r.isNull(i) ? AudienceSnapshot.nullTime : r.int64(i) }
        while try r.step() {
            // Users are never deleted, so this read sees exactly the users the key scan saw.
            guard s.ids.count < count, keys.pks[s.ids.count] == r.int64(0) else {
                throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "users changed under a snapshot")
            }
            s.ids.append(r.text(1) ?? "")
            s.email.append(r.text(2))
            s.phone.append(r.text(3))
            s.appendTimezone(r.text(4), codes: &zones)
            s.locale.append(r.text(5))
            s.createdAt.append(time(6))
            s.birthday.append(
                r.text(7).flatMap(TimestampParser.parseDate)?.midnightUTC ?? AudienceSnapshot.nullTime)
            s.lastSeenImported.append(time(8))
            s.pushDevices.append(UInt8(clamping: r.int64(9)))
        }
        withExtendedLifetime(stmt) {}
        guard s.ids.count == count else {
            throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "users changed under a snapshot")
        }
    }

    /// Fills one column per declared attribute; a stored value of another type becomes null.
    func loadAttributes(_ db: Database, map: RowMap, count: Int) throws -> [String: AttributeColumn] {
        var attributes: [String: AttributeColumn] = [:]
        // attribute id → builder slot, in a flat array (ids are small and dense): no hashing per row.
        var slots: [Int] = []
        var builders: [AttributeColumnBuilder] = []
        var slotNames: [String] = []
        for r in try Row.fetchAll(db, sql: "SELECT id, name FROM attribute_names") {
            let name: String = r[1]
            let id: Int64 = r[0]
            if let type = schema[name], id >= 0, id < 1_000_000 {
                if slots.count <= Int(id) { slots += Array(repeating: -1, count: Int(id) + 1 - slots.count) }
                slots[Int(id)] = builders.count
                builders.append(AttributeColumnBuilder(type: type, count: count))
                slotNames.append(name)
            }
        }
        if !builders.isEmpty {
            let stmt = try db.makeStatement(
                sql: "SELECT user_pk, attribute_id, type, value FROM user_attributes ORDER BY user_pk")
            let r = RawStatement(db, stmt)
            while try r.step() {
                let attribute = Int(r.int64(1))
                guard attribute >= 0, attribute < slots.count, slots[attribute] >= 0 else { continue }
                let slot = slots[attribute]
                let row = map.row(r.int64(0))
                if row < 0 || r.isNull(3) { continue }
                builders[slot].set(row: row, type: r.int64(2), r)
            }
        }
        for (slot, b) in builders.enumerated() { attributes[slotNames[slot]] = b.finish() }
        for (name, type) in schema.types where attributes[name] == nil {
            attributes[name] = AttributeColumnBuilder(type: type, count: count).finish()
        }
        return attributes
    }

    /// Fills `events` (required names, without numbers) and `allEvents` from ordered index scans: one per
    /// part of the users (by pk range, so by contiguous rows), on its own reader connection. `ids` holds
    /// the event ids of the names that need numbers, aligned with their columns.
    func loadEvents(
        _ req: SnapshotRequirements, keys: UserKeys, parts: Int
    ) async throws -> (events: [String: EventColumn], allEvents: EventColumn, ids: [String: [Int64]]) {
        let n = keys.count
        let map = keys.map
        // Part k holds rows n·k/parts ..< n·(k+1)/parts, so the pks from the first pk of the part to
        // the first of the next (users added since the key scan have larger pks than every row; their
        // events fall outside every part's rows and are skipped).
        let partCount = max(1, min(parts, n))
        let cuts = (0..<partCount).map { k in k == 0 ? Int64.min : keys.pks[n * k / partCount] } + [Int64.max]
        let loaded = try await withThrowingTaskGroup(of: (Int, EventPart).self) { group in
            for k in 0..<partCount {
                let rows = (n * k / partCount)..<(n * (k + 1) / partCount)
                group.addTask {
                    let part = try await self.pool.read { db in
                        try self.loadEventPart(db, req, map: map, pks: cuts[k]..<cuts[k + 1], rows: rows)
                    }
                    return (k, part)
                }
            }
            var parts: [(Int, EventPart)] = []
            for try await p in group { parts.append(p) }
            return parts.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var all = EventColumn(offsets: [0], timestamps: [])
        var events: [String: EventColumn] = [:]
        var ids: [String: [Int64]] = [:]
        // The parts are copied once each, into arrays of their final size.
        all.offsets.reserveCapacity(n + 1)
        all.timestamps.reserveCapacity(loaded.reduce(0) { $0 + $1.all.timestamps.count })
        for name in req.events {
            var column = EventColumn(offsets: [0], timestamps: [])
            column.offsets.reserveCapacity(n + 1)
            column.timestamps.reserveCapacity(
                loaded.reduce(0) { $0 + ($1.events[name]?.timestamps.count ?? 0) })
            events[name] = column
        }
        for part in loaded {
            all.append(part.all)
            for name in req.events {
                let column =
                    part.events[name]
                    ?? EventColumn(
                        offsets: Array(repeating: 0, count: part.all.offsets.count), timestamps: [])
                events[name, default: EventColumn(offsets: [0], timestamps: [])].append(column)
                if let partIDs = part.ids[name] { ids[name, default: []].append(contentsOf: partIDs) }
            }
        }
        for name in req.events where events[name] == nil || events[name]!.offsets.count != n + 1 {
            events[name] = EventColumn(offsets: Array(repeating: 0, count: n + 1), timestamps: [])
        }
        return (events, all, ids)
    }

    /// The events of the users whose pk is in `pks`: CSR columns over just their (contiguous) rows.
    func loadEventPart(
        _ db: Database, _ req: SnapshotRequirements, map: RowMap, pks: Range<Int64>, rows: Range<Int>
    ) throws -> EventPart {
        var nameOf: [Int64: String] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT id, name FROM event_names") { nameOf[r[0]] = r[1] }
        let firstRow = rows.lowerBound
        let endRow = rows.upperBound
        let rowCount = rows.count
        // Builders by name id in a flat array (name ids are small and dense): no hashing per row.
        var builders = [ColumnBuilder?](repeating: nil, count: Int(nameOf.keys.max() ?? 0) + 1)
        for (id, name) in nameOf where req.events.contains(name) {
            builders[Int(id)] = ColumnBuilder(keepIDs: !(req.eventNumbers[name] ?? []).isEmpty)
            builders[Int(id)]!.offsets.reserveCapacity(rowCount + 1)
        }
        var all = ColumnBuilder(keepIDs: false)
        all.offsets.reserveCapacity(rowCount + 1)
        let stmt = try db.makeStatement(
            // Index order: no sort.
            sql:
                "SELECT user_pk, name_id, ts, id FROM events WHERE user_pk >= ? AND user_pk < ? ORDER BY user_pk, name_id, ts"
        )
        stmt.arguments = [pks.lowerBound, pks.upperBound]
        let r = RawStatement(db, stmt)
        var currentRow = -1
        var runStart = 0
        var unsorted = false
        while try r.step() {
            let global = map.row(r.int64(0))
            if global < firstRow || global >= endRow { continue }
            let row = global - firstRow
            let ts = secondsOf(millis: r.int64(2))
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
            let nameID = Int(r.int64(1))
            if nameID < builders.count, builders[nameID] != nil {
                builders[nameID]!.append(row: row, ts: ts, id: r.int64(3))
            }
        }
        if unsorted { all.timestamps[runStart...].sort() }
        all.finish(count: rowCount)
        var part = EventPart(all: EventColumn(offsets: all.offsets, timestamps: all.timestamps))
        for (nameID, built) in builders.enumerated() {
            guard var b = built, let name = nameOf[Int64(nameID)] else { continue }
            b.finish(count: rowCount)
            part.events[name] = EventColumn(offsets: b.offsets, timestamps: b.timestamps)
            if b.keepIDs { part.ids[name] = b.ids }
        }
        return part
    }

    /// The dense tables of the numbers `req` asks for, by event name and property; a property whose
    /// event ids are too spread out for a table is left out (`numbers(of:keys:tables:)` merges it).
    ///
    /// Read while the events load: a table costs 8 bytes per event id in its span (no more than the
    /// all-events timeline does per event) and fills sequentially, in the table's primary-key order.
    func loadNumberTables(_ db: Database, _ req: SnapshotRequirements) throws -> [String: [String:
        NumberTable]]
    {
        var out: [String: [String: NumberTable]] = [:]
        let wanted = req.eventNumbers.filter { req.events.contains($0.key) && !$0.value.isEmpty }
        guard !wanted.isEmpty else { return out }
        let lastEvent = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM events") ?? 0
        let firstEvent = try Int64.fetchOne(db, sql: "SELECT coalesce(min(id), 0) FROM events") ?? 0
        // Separate statements: min() and max() together would scan.
        let first = try Int64.fetchOne(db, sql: "SELECT coalesce(min(event_id), 0) FROM event_numbers") ?? 0
        let last = try Int64.fetchOne(db, sql: "SELECT coalesce(max(event_id), -1) FROM event_numbers") ?? -1
        let span = last - first + 1
        guard first >= 0, span <= max(1_000_000, lastEvent - firstEvent + 1), span < Int64(Int32.max) else {
            return out
        }
        for (name, keys) in wanted {
            for key in keys {
                var values = [Double](repeating: .nan, count: Int(max(0, span)))
                if let kid = try Int64.fetchOne(
                    db, sql: "SELECT id FROM property_keys WHERE name = ?", arguments: [key])
                {
                    let stmt = try db.makeStatement(
                        sql: "SELECT event_id, value FROM event_numbers WHERE key_id = ?")
                    stmt.arguments = [kid]
                    let r = RawStatement(db, stmt)
                    while try r.step() {
                        let k = r.int64(0) - first
                        if k >= 0, k < span { values[Int(k)] = r.double(1) }
                    }
                    withExtendedLifetime(stmt) {}
                }
                out[name, default: [:]][key] = NumberTable(first: first, values: values, lastEvent: lastEvent)
            }
        }
        return out
    }

    /// Numeric properties `keys` of the events `ids`, aligned with `ids` (NaN where missing): from
    /// `tables` where they have the property, else by one ordered scan merged with the sorted ids.
    func numbers(of ids: [Int64], keys: Set<String>, tables: [String: NumberTable]) async throws -> [String:
        [Double]]
    {
        var out: [String: [Double]] = [:]
        var merged: Set<String> = []
        for key in keys {
            guard let table = tables[key] else {
                merged.insert(key)
                continue
            }
            var values = [Double](repeating: .nan, count: ids.count)
            // Events committed after the table was read have larger ids (ids only grow): looked up one by one.
            var late: [Int] = []
            table.values.withUnsafeBufferPointer { v in
                for (i, id) in ids.enumerated() {
                    if id > table.lastEvent {
                        late.append(i)
                        continue
                    }
                    let k = id - table.first
                    if k >= 0, k < v.count { values[i] = v[Int(k)] }
                }
            }
            if !late.isEmpty {
                let lateRows = late
                let found = try await pool.read { db in
                    try lateRows.map { i in
                        try Double.fetchOne(
                            db,
                            sql: """
                                SELECT n.value FROM event_numbers n JOIN property_keys k ON k.id = n.key_id
                                WHERE n.event_id = ? AND k.name = ?
                                """, arguments: [ids[i], key])
                    }
                }
                for (i, value) in zip(late, found) { values[i] = value ?? .nan }
            }
            out[key] = values
        }
        if !merged.isEmpty {
            let mergedKeys = merged
            let rest = try await pool.read { db in try self.loadNumbers(db, ids: ids, keys: mergedKeys) }
            out.merge(rest) { $1 }
        }
        return out
    }

    /// Numeric properties `keys` of the events `ids`, aligned with `ids` (NaN where missing).
    ///
    /// event_numbers comes back in event-id order (its primary key), so the ids are sorted once and
    /// the two sorted streams are merged: no hashing per row.
    func loadNumbers(_ db: Database, ids: [Int64], keys: Set<String>) throws -> [String: [Double]] {
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        var out: [String: [Double]] = [:]
        for key in keys {
            var values = [Double](repeating: .nan, count: ids.count)
            if let kid = try Int64.fetchOne(
                db, sql: "SELECT id FROM property_keys WHERE name = ?", arguments: [key])
            {
                let stmt = try db.makeStatement(
                    sql: "SELECT event_id, value FROM event_numbers WHERE key_id = ? ORDER BY event_id")
                stmt.arguments = [kid]
                let r = RawStatement(db, stmt)
                var k = 0
                while k < order.count, try r.step() {
                    let id = r.int64(0)
                    while k < order.count, ids[order[k]] < id { k += 1 }
                    while k < order.count, ids[order[k]] == id {
                        values[order[k]] = r.double(1)
                        k += 1
                    }
                }
            }
            out[key] = values
        }
        return out
    }
}

/// Every stored value of one numeric property of one event name, by event id, read in one scan.
struct NumberTable: Sendable {
    /// The event id of `values[0]`.
    let first: Int64
    /// Values by event id − `first`; NaN where the event has none.
    let values: [Double]
    /// The largest event id when the table was read: an event with a larger one was committed later.
    let lastEvent: Int64
}

/// The event columns of one contiguous range of snapshot rows.
struct EventPart: Sendable {
    /// All events of the range's rows.
    var all: EventColumn
    /// Required event columns of the range's rows.
    var events: [String: EventColumn] = [:]
    /// Event ids of the required columns that need numbers, aligned with their timestamps.
    var ids: [String: [Int64]] = [:]
}

extension EventColumn {
    /// Appends the rows of `other` (a CSR column over the rows that follow this one's).
    mutating func append(_ other: EventColumn) {
        let shift = timestamps.count
        offsets.reserveCapacity(offsets.count + other.offsets.count - 1)
        for o in other.offsets.dropFirst() { offsets.append(o + shift) }
        timestamps.append(contentsOf: other.timestamps)
        let keys = Set(numbers.keys).union(other.numbers.keys)
        for key in keys {
            var mine = numbers[key] ?? [Double](repeating: .nan, count: shift)
            mine.append(
                contentsOf: other.numbers[key] ?? [Double](repeating: .nan, count: other.timestamps.count))
            numbers[key] = mine
        }
    }
}
