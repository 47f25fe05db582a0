/// Escapes and UTF-8 validation for `JSONParser`.
extension JSONParser {
    /// The value of the 4 hex digits at `k` (a `\u` escape).
    package func hex4(at k: Int) throws(JSONError) -> UInt32 {
        guard k + 4 <= b.count else { throw JSONError(offset: k, message: "expected 4 hex digits after \\u") }
        var v: UInt32 = 0
        for j in k..<k + 4 {
            let c = b[j]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: throw JSONError(offset: j, message: "expected a hex digit")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// The length of the valid UTF-8 sequence at `k`, or an error at its first bad byte.
    package func utf8Length(at k: Int) throws(JSONError) -> Int {
        let c = b[k]
        let n: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: throw JSONError(offset: k, message: "invalid UTF-8 byte 0x\(String(c, radix: 16, uppercase: true))")
        }
        for j in 1..<n {
            guard k + j < b.count else { throw JSONError(offset: k, message: "truncated UTF-8 sequence") }
            let x = b[k + j]
            let (l, h) = j == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
            guard x >= l && x <= h else {
                throw JSONError(offset: k + j, message: "invalid UTF-8 byte 0x\(String(x, radix: 16, uppercase: true))")
            }
        }
        return n
    }
}
