import Foundation
import Testing

@testable import HeraldDelivery

@Suite struct OutboxTests {
    /// Keys that used to collide (`/` and `_` both became `_`) or could reach outside the folder.
    static let keys = [
        "coll/a", "coll_a", "coll%2Fa", "coll%a", "coll a", "coll\u{E9}a", "coll\u{301}a", ".", "..", "../../etc/passwd",
        "", "%", "%25", ".hidden", "a.b", "a..b", "webhook-id:42", "user|7", "用户/1",
        String(repeating: "x", count: 300), String(repeating: "x", count: 299) + "y",
        String(repeating: "/", count: 100), String(repeating: "/", count: 101),
    ]

    /// Percent-decodes a name back to the key's bytes.
    static func decode(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        var bytes = Array(name.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), let hex = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(hex)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return out
    }

    @Test func namesAreInjectiveReadableAndStayInTheFolder() {
        let names = Self.keys.map(Outbox.fileName)
        #expect(Set(names).count == Self.keys.count, "\(names)")
        for (key, name) in zip(Self.keys, names) {
            #expect(!name.isEmpty && !name.contains("/") && !name.hasPrefix("."), "\(key) → \(name)")
            #expect(name.utf8.count <= Outbox.maxNameBytes, "\(key) → \(name)")
            #expect(name.utf8.allSatisfy { $0 < 0x80 && $0 > 0x20 }, "\(key) → \(name)")
            if !name.contains("~") && !key.isEmpty { #expect(Self.decode(name) == Array(key.utf8), "\(key) → \(name)") }
        }
        #expect(Outbox.fileName("winback/2026-11-23/u1/1") == "winback%2F2026-11-23%2Fu1%2F1")
        #expect(Outbox.fileName("coll_a") == "coll_a")
        #expect(Outbox.fileName("50%") == "50%25")
    }

    @Test func keysThatUsedToCollideGetTwoFiles() throws {
        let dir = NSTemporaryDirectory() + "herald-outbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outbox = Outbox(directory: dir + "/out")
        for key in Self.keys { try outbox.write(key: key, ext: "json", bytes: Array(key.utf8)) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(files.count == Self.keys.count)
        // Every key's bytes are in its own file, and nothing was written beside the folder.
        for key in Self.keys {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/" + Outbox.fileName(key) + ".json"))
            #expect(Array(data) == Array(key.utf8))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out"])
    }
}
