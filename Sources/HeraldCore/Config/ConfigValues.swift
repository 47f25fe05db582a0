/// A delivery channel.
public enum ChannelKind: String, Sendable, Hashable, CaseIterable, Codable {
    case email, sms, webhook, push
}

/// A throughput limit such as `50/s`, `300/m`, `1000/h` or a quota `10000/day`.
public struct SendRate: Sendable, Hashable, CustomStringConvertible {
    /// Messages allowed per period.
    public var count: Int
    /// The period in seconds (1, 60, 3600 or 86400).
    public var perSeconds: Int64

    /// A rate of `count` per `perSeconds`.
    public init(count: Int, perSeconds: Int64) {
        self.count = count
        self.perSeconds = perSeconds
    }

    /// Parses `N/s`, `N/m`, `N/h` (and, when `allowDay`, `N/day` / `N/d`); N must be positive.
    public init?(parsing text: String, allowDay: Bool = false) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), n > 0 else { return nil }
        switch parts[1] {
        case "s": perSeconds = 1
        case "m": perSeconds = 60
        case "h": perSeconds = 3600
        case "day", "d":
            guard allowDay else { return nil }
            perSeconds = 86_400
        default: return nil
        }
        count = n
    }

    /// Messages per second as a fraction.
    public var perSecond: Double { Double(count) / Double(perSeconds) }

    /// `50/s`, `300/m`, `1000/h`, `10000/day`.
    public var description: String {
        let unit = perSeconds == 1 ? "s" : perSeconds == 60 ? "m" : perSeconds == 3600 ? "h" : "day"
        return "\(count)/\(unit)"
    }
}

/// A local wall-clock time of day, `HH:MM`.
public struct ClockTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 0–23.
    public var hour: Int
    /// 0–59.
    public var minute: Int

    /// A time of day; values are not range-checked here.
    public init(hour: Int, minute: Int) {
        self.hour = hour
        self.minute = minute
    }

    /// Parses `H:MM` or `HH:MM` in 00:00–23:59.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let h = Int(parts[0]), let m = Int(parts[1]), h < 24, m < 60
        else { return nil }
        hour = h
        minute = m
    }

    /// Minutes since midnight.
    public var minutes: Int { hour * 60 + minute }

    /// Earlier in the day.
    public static func < (a: ClockTime, b: ClockTime) -> Bool { a.minutes < b.minutes }

    /// `HH:MM`.
    public var description: String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}

/// An RFC 5322 mailbox: `news@shop.example` or `Shop <news@shop.example>`.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// The display name, if any (without quotes).
    public var displayName: String?
    /// The addr-spec `local@domain`.
    public var address: String

    /// Parses a name-addr or a bare addr-spec; nil when it is not a plausible mailbox.
    public init?(parsing text: String) {
        let t = text.trimmingSpaces
        if t.hasSuffix(">"), let open = t.lastIndex(of: "<") {
            var name = String(t[..<open]).trimmingSpaces
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
            } else if name.contains(where: { "()<>[]:;@\\,\"".contains($0) }) {
                return nil
            }
            displayName = name.isEmpty ? nil : name
            address = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
        } else {
            displayName = nil
            address = t
        }
        guard Self.isAddrSpec(address) else { return nil }
    }

    /// True for `local@domain` with a dot-atom local part (ASCII letters, digits and RFC 5322 atext; no leading,
    /// trailing or doubled dot) and a dotted domain of non-empty labels (letters, digits and inner hyphens).
    /// Byte-based: it runs for every email built.
    static func isAddrSpec(_ s: String) -> Bool {
        var text = s
        return text.withUTF8 { bytes in
            let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
            func letterOrDigit(_ b: UInt8) -> Bool {
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            }
            func atext(_ b: UInt8) -> Bool {
                letterOrDigit(b) || "!#$%&'*+-/=?^_`{|}~.".utf8.contains(b)
            }
            guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0,
                  !bytes[(at + 1)...].contains(UInt8(ascii: "@")) else { return false }
            let local = bytes[..<at], domain = bytes[(at + 1)...]
            guard local.allSatisfy(atext), local.first != dot, local.last != dot,
                  !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else { return false }
            guard domain.contains(dot) else { return false }
            return domain.split(separator: dot, omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && label.first != hyphen && label.last != hyphen
                    && label.allSatisfy { letterOrDigit($0) || $0 == hyphen }
            }
        }
    }

    /// `Name <addr>` or `addr`.
    public var description: String { displayName.map { "\"\($0)\" <\(address)>" } ?? address }
}
