/// FNV-1a 64-bit: a stable, unseeded hash (unlike `Hasher`) for keys stored on disk.
public struct StableHash: Sendable {
    /// The running state.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// A fresh hash.
    public init() {}

    /// Mixes in bytes.
    public mutating func add<S: Sequence>(bytes: S) where S.Element == UInt8 {
        var h = value
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        value = h
    }

    /// Mixes in a string's UTF-8 bytes followed by a 0xFF separator (never part of UTF-8).
    public mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { add(bytes: $0) }
        add(bytes: CollectionOfOne(UInt8(0xFF)))
    }

    /// Mixes in the 8 bytes of an integer, little-endian.
    public mutating func add(_ v: Int64) {
        var x = UInt64(bitPattern: v)
        var h = value
        for _ in 0..<8 {
            h ^= x & 0xFF
            h = h &* 0x0000_0100_0000_01b3
            x >>= 8
        }
        value = h
    }

    /// The hash as a signed integer (SQL INTEGER).
    public var signed: Int64 { Int64(bitPattern: value) }

    /// The per-user identity of an event inside (user, name, time): its message id when given,
    /// else its canonical properties.
    public static func eventIdentity(_ e: EventRecord) -> Int64 {
        var h = StableHash()
        if let m = e.messageID {
            h.add("m")
            h.add(m)
        } else {
            h.add("p")
            h.add(e.propertiesJSON ?? "")
        }
        return h.signed
    }
}
