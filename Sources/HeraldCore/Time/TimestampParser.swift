/// Parses the timestamp forms of docs/delivery.md#import-formats: ISO-8601 with an offset or `Z`, or epoch seconds / milliseconds.
public enum TimestampParser {
    /// Why a timestamp was refused.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong with the text.
        public var reason: String
        public var description: String { reason }
    }

    /// Epoch milliseconds of an ISO-8601 text such as `2026-11-02T08:15:00+08:00`,
    /// `2026-11-02T00:15:00.250Z`, `2026-11-02 08:15:00+0800`.
    /// A form without an offset is refused: its instant would be a guess.
    public static func parseISO(_ text: String) -> Result<Int64, Failure> {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            if i < b.count && b[i] == c {
                i += 1
                return true
            }
            return false
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2),
            expect(UInt8(ascii: "-")), let day = digits(2)
        else { return .failure(Failure(reason: "expected a date as YYYY-MM-DD")) }
        let date = CivilDate(year: year, month: month, day: day)
        guard date.isValid else { return .failure(Failure(reason: "no such date \(date)")) }
        guard i < b.count else {
            return .failure(Failure(reason: "a date alone is not an instant; add a time and an offset"))
        }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ") else {
            return .failure(Failure(reason: "expected 'T' between date and time"))
        }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2) else {
            return .failure(Failure(reason: "expected a time as HH:MM[:SS]"))
        }
        var second = 0
        if expect(UInt8(ascii: ":")) {
            guard let s = digits(2) else { return .failure(Failure(reason: "expected seconds as SS")) }
            second = s
        }
        guard hour <= 23, minute <= 59, second <= 60 else {
            return .failure(Failure(reason: "time out of range"))
        }
        var millis = 0
        if i < b.count && (b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",")) {
            i += 1
            var scale = 100
            var count = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                millis += Int(b[i] - 48) * scale
                scale /= 10
                count += 1
                i += 1
            }
            guard count > 0 else { return .failure(Failure(reason: "expected digits after the decimal point")) }
        }
        guard i < b.count else {
            return .failure(Failure(reason: "missing offset: add 'Z' or an offset such as +08:00"))
        }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return .failure(Failure(reason: "expected offset hours")) }
            _ = expect(UInt8(ascii: ":"))
            let om = digits(2) ?? 0
            guard oh <= 18, om <= 59 else { return .failure(Failure(reason: "offset out of range")) }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return .failure(Failure(reason: "unexpected text after the time"))
        }
        guard i == b.count else { return .failure(Failure(reason: "unexpected text after the offset")) }
        let secs = date.midnightUTC + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
        return .success(secs * 1000 + Int64(millis))
    }

    /// Epoch milliseconds of a number: values of magnitude ≥ 1e11 are milliseconds, else seconds.
    public static func fromEpoch(_ value: Double) -> Result<Int64, Failure> {
        guard value.isFinite else { return .failure(Failure(reason: "not a finite number")) }
        let ms = abs(value) >= 1e11 ? value : value * 1000
        guard abs(ms) < 1e16 else { return .failure(Failure(reason: "epoch value out of range")) }
        return .success(Int64(ms.rounded(.down)))
    }

    /// Epoch milliseconds of a string that is ISO-8601 or all digits (epoch).
    public static func parse(_ text: String) -> Result<Int64, Failure> {
        let t = text.trimmingSpaces
        if !t.isEmpty, t.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") }),
            let d = Double(t)
        {
            return fromEpoch(d)
        }
        return parseISO(t)
    }

    /// A `YYYY-MM-DD` date (birthdays).
    public static func parseDate(_ text: String) -> CivilDate? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for k in r {
                guard b[k] >= 48 && b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
        let date = CivilDate(year: y, month: m, day: d)
        return date.isValid ? date : nil
    }

    /// `2026-11-02T00:15:00Z` for epoch seconds.
    public static func formatUTC(seconds: Int64) -> String {
        let date = CivilDate(epochSeconds: seconds)
        var s = seconds % 86_400
        if s < 0 { s += 86_400 }
        func p(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(date)T\(p(s / 3600)):\(p(s / 60 % 60)):\(p(s % 60))Z"
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let ws: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !ws($0) }) else { return "" }
        let end = lastIndex(where: { !ws($0) })!
        return String(self[start...end])
    }
}
