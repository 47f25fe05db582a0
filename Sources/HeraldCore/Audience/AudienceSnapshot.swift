/// A columnar, read-only copy of the audience for bulk segment evaluation (docs/architecture.md).
///
/// Row `i` of every column is user `i`. Nulls use sentinels so columns stay flat arrays:
/// `Int64.min` for times, NaN for numbers, -1 for dictionary codes and booleans.
public struct AudienceSnapshot: Sendable {
    /// The null sentinel for time columns.
    public static let nullTime = Int64.min

    /// User ids, one per row.
    public var ids: [String]
    /// Email per row, nil when missing.
    public var email: [String?]
    /// Phone per row, nil when missing.
    public var phone: [String?]
    /// Locale per row, nil when missing.
    public var locale: [String?]
    /// Time-zone name per row as a code into `timezoneNames`; -1 when missing.
    public var timezone: [Int32]
    /// The distinct time-zone names (valid or not, exactly as imported).
    public var timezoneNames: [String]
    /// Epoch seconds, `nullTime` when missing.
    public var createdAt: [Int64]
    /// Imported `last_seen_at`, epoch seconds, `nullTime` when missing.
    public var lastSeenImported: [Int64]
    /// Birthday as the epoch seconds of its midnight UTC, `nullTime` when missing.
    public var birthday: [Int64]
    /// Custom attribute columns by name.
    public var attributes: [String: AttributeColumn]
    /// Event columns by event name (only the names the snapshot was asked for).
    public var events: [String: EventColumn]
    /// All events of every name, timestamps only (for `last_seen_at` and `lifecycle`).
    public var allEvents: EventColumn
    /// Engagement ratio per row (see `Engagement`), NaN (null) when nothing was sent in its window. The
    /// ledger, not the audience store, knows it: a store's snapshot leaves it NaN and
    /// `PlanningSource.fillEngagement` sets it.
    public var engagement: [Double]
    /// Active push devices per row (capped at 255). A store that registers no devices may leave it short:
    /// read it through `pushDevices(row:)`, which counts a missing row as none.
    public var pushDevices: [UInt8]
    /// For `received()`: per campaign asked about, each row's last send time from the ledger (`nullTime`: none
    /// in the window read). Filled by planning, like `engagement`.
    public var received: [String: [Int64]] = [:]

    /// Active push devices of `row`.
    public func pushDevices(row: Int) -> Int { row < pushDevices.count ? Int(pushDevices[row]) : 0 }

    /// Number of users.
    public var count: Int { ids.count }

    /// An empty snapshot.
    /// Appends a row's time zone: `name`'s code in `timezoneNames` (added the first time; `codes` remembers
    /// them while the snapshot is built), or -1 when missing.
    public mutating func appendTimezone(_ name: String?, codes: inout [String: Int32]) {
        guard let name else { return timezone.append(-1) }
        if let code = codes[name] { return timezone.append(code) }
        let code = Int32(timezoneNames.count)
        codes[name] = code
        timezoneNames.append(name)
        timezone.append(code)
    }

    public init() {
        ids = []
        email = []
        phone = []
        locale = []
        timezone = []
        timezoneNames = []
        createdAt = []
        lastSeenImported = []
        birthday = []
        attributes = [:]
        events = [:]
        allEvents = EventColumn(offsets: [0], timestamps: [])
        engagement = []
        pushDevices = []
    }
}

/// One custom attribute as a column.
public enum AttributeColumn: Sendable {
    /// NaN = null.
    case number([Double])
    /// -1 = null, 0 = false, 1 = true.
    case bool([Int8])
    /// Dictionary-encoded strings; code -1 = null.
    case string(codes: [Int32], dictionary: [String])
    /// Epoch seconds; `AudienceSnapshot.nullTime` = null.
    case timestamp([Int64])
    /// Lists of strings: row i is `codes[offsets[i]..<offsets[i+1]]`; `isNull[i]` marks a null list.
    case list(offsets: [Int32], codes: [Int32], dictionary: [String], isNull: [Bool])
}

/// Events of one name in CSR layout: row i's events are `offsets[i]..<offsets[i+1]`, ascending in time.
public struct EventColumn: Sendable {
    /// `count + 1` offsets into `timestamps`.
    public var offsets: [Int]
    /// Epoch seconds, ascending within each row.
    public var timestamps: [Int64]
    /// Numeric properties aligned with `timestamps`, NaN where missing.
    public var numbers: [String: [Double]]

    /// A column.
    public init(offsets: [Int], timestamps: [Int64], numbers: [String: [Double]] = [:]) {
        self.offsets = offsets
        self.timestamps = timestamps
        self.numbers = numbers
    }

    /// The range of row `i`'s events.
    @inline(__always) public func range(_ i: Int) -> Range<Int> { offsets[i]..<offsets[i + 1] }
}

/// What a snapshot must hold for a set of compiled segments; the store loads only that.
public struct SnapshotRequirements: Sendable, Hashable {
    /// Event names whose timestamps are needed.
    public var events: Set<String>
    /// Numeric properties needed, by event name.
    public var eventNumbers: [String: Set<String>]
    /// True when a segment reads `engagement()`: the ledger must fill `AudienceSnapshot.engagement`.
    public var engagement: Bool
    /// Campaigns `received()` asks about, each with the longest window asked (planning reads the ledger's sends
    /// that far back and fills `AudienceSnapshot.received`).
    public var received: [String: Int64] = [:]

    /// Requirements; empty loads profiles and the all-events timeline only.
    public init(events: Set<String> = [], eventNumbers: [String: Set<String>] = [:], engagement: Bool = false) {
        self.events = events
        self.eventNumbers = eventNumbers
        self.engagement = engagement
    }

    /// The union of two requirement sets.
    public func union(_ other: SnapshotRequirements) -> SnapshotRequirements {
        var r = self
        r.engagement = engagement || other.engagement
        r.received.merge(other.received) { max($0, $1) }
        r.events.formUnion(other.events)
        for (k, v) in other.eventNumbers { r.eventNumbers[k, default: []].formUnion(v) }
        return r
    }
}
