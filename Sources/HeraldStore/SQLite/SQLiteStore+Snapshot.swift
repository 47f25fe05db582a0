import GRDB
import HeraldCore

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

extension SQLiteStore {
    /// A columnar snapshot: every user, every declared attribute, the required event columns, all events.
    ///
    /// Users come first (they give the pk → row map); then attributes and the events, in
    /// `snapshotParts` ranges of users, load at the same time on their own reader connections.
    /// A write committed in between can at most add events or attributes of users this snapshot
    /// does not have; those are skipped.
    public func snapshot(_ requirements: SnapshotRequirements) async throws -> AudienceSnapshot {
        let (users, map) = try await pool.read { db in
            var s = AudienceSnapshot()
            let map = try self.loadUsers(db, into: &s)
            return (s, map)
        }
        async let withAttributes = pool.read { db in
            var part = users
            try self.loadAttributes(db, map: map, into: &part)
            return part.attributes
        }
        async let withEvents = loadEvents(requirements, users: users, map: map, parts: snapshotParts)
        var s = users
        s.attributes = try await withAttributes
        (s.events, s.allEvents) = try await withEvents
        s.engagement = Array(repeating: .nan, count: s.count)
        return s
    }

    /// Fills ids and reserved columns in users.pk order.
    func loadUsers(_ db: Database, into s: inout AudienceSnapshot) throws -> RowMap {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
        let maxPK = try Int64.fetchOne(db, sql: "SELECT coalesce(max(pk), 0) FROM users") ?? 0
        var map = RowMap(maxPK: maxPK, count: count)
        for k in [\AudienceSnapshot.createdAt, \.lastSeenImported, \.birthday] { s[keyPath: k].reserveCapacity(count) }
        s.ids.reserveCapacity(count)
        var zones: [String: Int32] = [:]
        let stmt = try db.makeStatement(
            sql: "SELECT pk, id, email, phone, timezone, locale, created_at, birthday, last_seen_at FROM users ORDER BY pk")
        let r = RawStatement(db, stmt)
        func time(_ i: Int32) -> Int64 { r.isNull(i) ? AudienceSnapshot.nullTime : r.int64(i) }
        while try r.step() {
            map.set(r.int64(0), s.ids.count)
            s.ids.append(r.text(1) ?? "")
            s.email.append(r.text(2))
            s.phone.append(r.text(3))
            if let z = r.text(4) {
                if let code = zones[z] {
                    s.timezone.append(code)
                } else {
                    let code = Int32(s.timezoneNames.count)
                    zones[z] = code
                    s.timezoneNames.append(z)
                    s.timezone.append(code)
                }
            } else {
                s.timezone.append(-1)
            }
            s.locale.append(r.text(5))
            s.createdAt.append(time(6))
            s.birthday.append(r.text(7).flatMap(TimestampParser.parseDate)?.midnightUTC ?? AudienceSnapshot.nullTime)
            s.lastSeenImported.append(time(8))
        }
        return map
    }

    /// Fills one column per declared attribute; a stored value of another type becomes null.
    func loadAttributes(_ db: Database, map: RowMap, into s: inout AudienceSnapshot) throws {
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
                builders.append(AttributeColumnBuilder(type: type, count: s.count))
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
        for (slot, b) in builders.enumerated() { s.attributes[slotNames[slot]] = b.finish() }
        for (name, type) in schema.types where s.attributes[name] == nil {
            s.attributes[name] = AttributeColumnBuilder(type: type, count: s.count).finish()
        }
    }

    /// Fills `events` (required names, with numbers) and `allEvents` from ordered index scans: one per
    /// part of the users (by pk range, so by contiguous rows), on its own reader connection.
    func loadEvents(
        _ req: SnapshotRequirements, users: AudienceSnapshot, map: RowMap, parts: Int
    ) async throws -> (events: [String: EventColumn], allEvents: EventColumn) {
        let n = users.count
        let cuts = try await pool.read { db -> [Int64] in
            // The first pk of each part after the first; rows follow pk order.
            try (1..<max(1, parts)).compactMap { k in
                try Int64.fetchOne(
                    db, sql: "SELECT pk FROM users ORDER BY pk LIMIT 1 OFFSET ?", arguments: [n * k / parts])
            }
        }
        let bounds = [Int64.min] + cuts + [Int64.max]
        // Part k holds rows n·k/parts ..< n·(k+1)/parts: users are never deleted and new ones get
        // larger pks, so the pk at that offset is the first pk of the part even if users were added
        // since the users were read (their events fall outside every part's rows and are skipped).
        let partCount = bounds.count - 1
        let loaded = try await withThrowingTaskGroup(of: (Int, EventPart).self) { group in
            for k in 0..<partCount {
                let rows = (n * k / partCount)..<(n * (k + 1) / partCount)
                group.addTask {
                    let part = try await self.pool.read { db in
                        try self.loadEventPart(db, req, map: map, pks: bounds[k]..<bounds[k + 1], rows: rows)
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
        for part in loaded {
            all.append(part.all)
            for name in req.events {
                let column = part.events[name] ?? EventColumn(offsets: Array(repeating: 0, count: part.all.offsets.count), timestamps: [])
                events[name, default: EventColumn(offsets: [0], timestamps: [])].append(column)
            }
        }
        if loaded.isEmpty { all.offsets = Array(repeating: 0, count: n + 1) }
        for name in req.events where events[name] == nil || events[name]!.offsets.count != n + 1 {
            events[name] = EventColumn(offsets: Array(repeating: 0, count: n + 1), timestamps: [])
        }
        return (events, all)
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
            sql: "SELECT user_pk, name_id, ts, id FROM events WHERE user_pk >= ? AND user_pk < ? ORDER BY user_pk, name_id, ts")
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
            var column = EventColumn(offsets: b.offsets, timestamps: b.timestamps)
            let keys = req.eventNumbers[name] ?? []
            if !keys.isEmpty {
                column.numbers = try loadNumbers(db, ids: b.ids, keys: keys)
            }
            part.events[name] = column
        }
        return part
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
            if let kid = try Int64.fetchOne(db, sql: "SELECT id FROM property_keys WHERE name = ?", arguments: [key]) {
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

/// The event columns of one contiguous range of snapshot rows.
struct EventPart: Sendable {
    /// All events of the range's rows.
    var all: EventColumn
    /// Required event columns of the range's rows.
    var events: [String: EventColumn] = [:]
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
            mine.append(contentsOf: other.numbers[key] ?? [Double](repeating: .nan, count: other.timestamps.count))
            numbers[key] = mine
        }
    }
}
