/// Parses durations such as `30d`, `12h`, `15m`, `45s`, `2w` or compound `1d12h`.
public enum DurationSpec {
    /// Seconds in the duration, or nil when `text` is not a duration.
    public static func seconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64 = 0
        var sawDigit = false
        var sawUnit = false
        for ch in text.utf8 {
            if ch >= 48 && ch <= 57 {
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(ch - 48))
                if o1 || o2 { return nil }
                number = a
                sawDigit = true
                continue
            }
            guard sawDigit, let unit = unitSeconds(ch) else { return nil }
            let (p, o1) = number.multipliedReportingOverflow(by: unit)
            let (s, o2) = total.addingReportingOverflow(p)
            if o1 || o2 { return nil }
            total = s
            number = 0
            sawDigit = false
            sawUnit = true
        }
        return sawUnit && !sawDigit ? total : nil
    }

    /// Seconds per unit letter: s m h d w.
    public static func unitSeconds(_ ch: UInt8) -> Int64? {
        switch ch {
        case UInt8(ascii: "s"): 1
        case UInt8(ascii: "m"): 60
        case UInt8(ascii: "h"): 3600
        case UInt8(ascii: "d"): 86_400
        case UInt8(ascii: "w"): 604_800
        default: nil
        }
    }

    /// A compact rendering, e.g. `7d`, `90m`, `1d12h`.
    public static func format(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}
