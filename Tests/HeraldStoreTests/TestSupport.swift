import Foundation
import HeraldCore

@testable import HeraldStore

/// A temporary directory removed when the value is released.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes raw bytes to `name` and returns its path.
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// The schema the tests declare.
let testSchema = AttributeSchema([
    "country": .string, "avg_order_value": .number, "vip": .bool, "tags": .list, "signup": .timestamp,
])

/// A fresh store in a fresh directory with a fixed clock.
func makeStore(_ dir: TempDir, schema: AttributeSchema = testSchema) throws -> SQLiteStore {
    try SQLiteStore(path: dir.path("audience.sqlite"), schema: schema, clock: { 1_700_000_000 })
}

/// Epoch ms of an ISO text (test helper).
func ms(_ iso: String) -> Int64 { try! TimestampParser.parseISO(iso).get() }
