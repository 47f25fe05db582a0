import Foundation

/// Time-zone lookups by IANA name, cached: validity and the UTC offset at an instant.
public final class ZoneTable: Sendable {
    private let cache: LockedState<[String: TimeZone?]>

    /// An empty cache.
    public init() { cache = LockedState([:]) }

    /// The zone for an IANA identifier, or nil when the name is unknown.
    public func zone(_ name: String) -> TimeZone? {
        if let hit = cache.withLock({ $0[name] }) { return hit }
        // Foundation accepts abbreviations such as "EST"; only full IANA-style names are accepted here.
        let z: TimeZone? =
            (name == "UTC" || name.contains("/")) ? TimeZone(identifier: name) : nil
        cache.withLock { $0[name] = z }
        return z
    }

    /// True when `name` is a known IANA zone.
    public func isValid(_ name: String) -> Bool { zone(name) != nil }

    /// Seconds east of UTC in `name` at the epoch-seconds instant, or nil for an unknown zone.
    public func offset(_ name: String, at seconds: Int64) -> Int64? {
        guard let z = zone(name) else { return nil }
        return Int64(z.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    /// A process-wide table.
    public static let shared = ZoneTable()
}
