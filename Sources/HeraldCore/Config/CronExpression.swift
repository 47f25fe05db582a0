import Foundation

/// A 5-field cron schedule: minute hour day-of-month month day-of-week.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` `a-b/n` `a/n`, and lists `a,b`; months take
/// `JAN`…`DEC`, weekdays `SUN`…`SAT` (0 or 7 is Sunday). Shorthands: `@hourly @daily @weekly @monthly @yearly`.
/// As in Vixie cron, when both day fields are restricted a day matches either of them.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// Why an expression was refused.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        public var reason: String
        /// The 0-based character offset of the offending field in the text, when one field is to blame.
        public var offset: Int? = nil
        /// The reason.
        public var description: String { reason }
    }

    /// Allowed minutes (0–59).
    public let minutes: Set<Int>
    /// Allowed hours (0–23).
    public let hours: Set<Int>
    /// Allowed days of the month (1–31).
    public let daysOfMonth: Set<Int>
    /// Allowed months (1–12).
    public let months: Set<Int>
    /// Allowed weekdays (0 = Sunday … 6).
    public let daysOfWeek: Set<Int>
    /// True when the day-of-month field is restricted (does not start with `*`).
    public let domRestricted: Bool
    /// True when the day-of-week field is restricted.
    public let dowRestricted: Bool
    /// The text it was parsed from.
    public let text: String

    /// The expression text.
    public var description: String { text }

    private static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    private init(fields: [Set<Int>], dom: Bool, dow: Bool, text: String) {
        minutes = fields[0]
        hours = fields[1]
        daysOfMonth = fields[2]
        months = fields[3]
        daysOfWeek = fields[4]
        domRestricted = dom
        dowRestricted = dow
        self.text = text
    }

    /// Parses an expression such as `0 9 * * MON-FRI` or `*/15 8-18 * * *`.
    public static func parse(_ text: String) -> Result<CronExpression, Failure> {
        let shorthands = [
            "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
            "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
        ]
        let trimmed = text.trimmingSpaces
        let expanded = shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            return .failure(Failure(reason: "expected 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)"))
        }
        let specs: [(String, ClosedRange<Int>, [String], Int)] = [
            ("minute", 0...59, [], 0), ("hour", 0...23, [], 0), ("day-of-month", 1...31, [], 1),
            ("month", 1...12, monthNames, 1), ("day-of-week", 0...7, dayNames, 0),
        ]
        var sets: [Set<Int>] = []
        for (k, field) in fields.enumerated() {
            let (label, range, names, nameBase) = specs[k]
            switch parseField(field, range: range, names: names, nameBase: nameBase) {
            case .success(var set):
                if k == 4, set.remove(7) != nil { set.insert(0) }
                sets.append(set)
            case .failure(let f):
                let lead = text.prefix { $0 == " " || $0 == "\t" }.count
                let offset = expanded == trimmed ? lead + Self.fieldOffset(k, in: trimmed) : nil
                return .failure(Failure(reason: "\(label) field '\(field)': \(f.reason)", offset: offset))
            }
        }
        let cron = CronExpression(fields: sets, dom: !fields[2].hasPrefix("*"), dow: !fields[4].hasPrefix("*"), text: trimmed)
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if cron.domRestricted && !cron.dowRestricted
            && !cron.months.contains(where: { m in cron.daysOfMonth.contains { $0 <= longest[m - 1] } })
        {
            return .failure(Failure(reason: "it never fires: no selected month has the selected days"))
        }
        return .success(cron)
    }

    /// The character offset of field `k` in a space-separated expression.
    private static func fieldOffset(_ k: Int, in text: String) -> Int {
        var index = -1
        var inField = false
        for (i, c) in text.enumerated() {
            let blank = c == " " || c == "\t"
            if !blank && !inField {
                index += 1
                if index == k { return i }
            }
            inField = !blank
        }
        return 0
    }

    private static func parseField(_ field: String, range: ClosedRange<Int>, names: [String], nameBase: Int)
        -> Result<Set<Int>, Failure>
    {
        func value(_ s: Substring) -> Int? {
            if let n = Int(s) { return n }
            return names.firstIndex(of: s.uppercased()).map { $0 + nameBase }
        }
        var out = Set<Int>()
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2, !stepParts[0].isEmpty else {
                return .failure(Failure(reason: "malformed item '\(item)'"))
            }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s > 0 else {
                    return .failure(Failure(reason: "step '\(stepParts[1])' must be a positive number"))
                }
                step = s
            }
            var lo: Int
            var hi: Int
            if stepParts[0] == "*" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else {
                let bounds = stepParts[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, let a = value(bounds[0]) else {
                    return .failure(Failure(reason: "'\(stepParts[0])' is not a value"))
                }
                lo = a
                hi = stepParts.count == 2 && bounds.count == 1 ? range.upperBound : a
                if bounds.count == 2 {
                    guard let b = value(bounds[1]) else { return .failure(Failure(reason: "'\(bounds[1])' is not a value")) }
                    hi = b
                }
            }
            guard range.contains(lo), range.contains(hi) else {
                return .failure(Failure(reason: "value out of range \(range.lowerBound)-\(range.upperBound)"))
            }
            guard lo <= hi else { return .failure(Failure(reason: "range \(lo)-\(hi) runs backwards")) }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return .success(out)
    }

    /// True when the civil date is a scheduled day.
    public func matches(_ date: CivilDate) -> Bool {
        guard months.contains(date.month) else { return false }
        let dom = daysOfMonth.contains(date.day)
        let dow = daysOfWeek.contains(date.weekday)
        if domRestricted && dowRestricted { return dom || dow }
        return dom && dow
    }

    /// The first scheduled instant strictly after `after` (epoch seconds), in `zone`'s wall-clock time.
    ///
    /// A local time skipped by a DST change fires at the first valid minute after the gap; a local
    /// time that occurs twice fires once, at its first occurrence. Nil when nothing matches within 8 years.
    public func next(after: Int64, in zone: TimeZone) -> Int64? {
        func offset(_ t: Int64) -> Int64 { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))) }
        let startDay = CivilDate(epochSeconds: after, offset: offset(after)).daysSinceEpoch - 1
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        for day in startDay..<(startDay + 366 * 8) {
            let date = CivilDate(daysSinceEpoch: day)
            guard matches(date) else { continue }
            for h in sortedHours {
                for m in sortedMinutes {
                    let local = date.midnightUTC + Int64(h * 3600 + m * 60)
                    if local < after - 86_400 { continue }
                    if let t = Self.instant(local: local, offset: offset), t > after { return t }
                }
            }
        }
        return nil
    }

    /// The first instant showing wall time `local`, or, inside a DST gap, the first whole minute after it.
    static func instant(local: Int64, offset: (Int64) -> Int64) -> Int64? {
        let offsets = Set([offset(local - 86_400), offset(local), offset(local + 86_400)])
        let exact = offsets.map { local - $0 }.filter { $0 + offset($0) == local }
        if let first = exact.min() { return first }
        // A gap: find the transition between the earliest and latest candidate instants.
        guard let hiOff = offsets.max(), let loOff = offsets.min() else { return nil }
        var lo = local - hiOff
        var hi = local - loOff
        let before = offset(lo)
        guard offset(hi) != before else { return nil }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if offset(mid) == before { lo = mid } else { hi = mid }
        }
        return (hi + 59) / 60 * 60
    }
}
