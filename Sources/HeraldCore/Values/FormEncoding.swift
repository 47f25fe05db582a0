/// `application/x-www-form-urlencoded` text (bodies and query strings): `+` is a space, `%XX` a byte.
public enum FormEncoding {
    /// The name/value pairs in order; nil when a pair's bytes are not valid UTF-8 after decoding.
    public static func pairs(_ text: some Collection<UInt8>) -> [(name: String, value: String)]? {
        var out: [(name: String, value: String)] = []
        for part in text.split(separator: UInt8(ascii: "&")) {
            let kv = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(kv[0]), let value = kv.count > 1 ? decode(kv[1]) : "" else { return nil }
            out.append((name, value))
        }
        return out
    }

    /// The first value of each name.
    public static func dictionary(_ text: some Collection<UInt8>) -> [String: String]? {
        pairs(text).map {
            Dictionary($0.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// One decoded component; nil for a bad escape or invalid UTF-8.
    public static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "+") {
                out.append(0x20)
            } else if c == UInt8(ascii: "%") {
                let h = bytes.index(after: i)
                guard h != bytes.endIndex, bytes.index(after: h) != bytes.endIndex,
                    let hi = hex(bytes[h]), let lo = hex(bytes[bytes.index(after: h)])
                else { return nil }
                out.append(hi << 4 | lo)
                i = bytes.index(after: h)
            } else {
                out.append(c)
            }
            i = bytes.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The value of one hex digit.
    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
