import Crypto

/// Secret comparisons that take the same time wherever the inputs differ, and whatever their lengths.
public enum ConstantTime {
    /// True when `a == b`. Both sides are hashed first, so the work depends on neither the position of
    /// the first difference nor on how long the secret is.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let ha = Array(SHA256.hash(data: a))
        let hb = Array(SHA256.hash(data: b))
        var diff: UInt8 = 0
        for i in 0..<ha.count { diff |= ha[i] ^ hb[i] }
        return diff == 0
    }

    /// True when the strings' UTF-8 bytes are equal.
    public static func equal(_ a: String, _ b: String) -> Bool { equal(Array(a.utf8), Array(b.utf8)) }
}
