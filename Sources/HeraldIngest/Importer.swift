import Foundation
import HeraldCore
import HeraldLedger

/// Why an import could not start.
public struct ImportFormatError: Error, Sendable, CustomStringConvertible {
    /// What is unsupported.
    public var description: String
}

/// Imports users and events files (docs/delivery.md#import-formats) into a store in batches of one transaction each.
///
/// Bad rows are reported with their line and column and skipped; good rows go in. A row with an
/// undeclared attribute is still imported without that attribute (the attribute is reported once,
/// with its count), so that a schema omission does not drop whole profiles.
public struct Importer: Sendable {
    /// Where rows go.
    public let store: any AudienceStore
    /// Declared custom attributes.
    public let schema: AttributeSchema
    /// Rows per transaction. Large batches matter: each commit rewrites every index page the
    /// batch touched, so 50,000 rows write ~4x less than 5,000 (measured).
    public var batchSize: Int
    /// The longest line accepted, in bytes; longer lines are reported and skipped.
    public var maxLineBytes: Int
    /// Row problems listed in a report before the rest are only counted.
    public var maxListedDiagnostics: Int
    /// Events files estimated at this many events or more are bulk-loaded (see `AudienceStore.beginBulkLoad`).
    public var bulkLoadThreshold = 100_000
    /// Lets the store defer index maintenance for a large events file (see `AudienceStore.beginBulkLoad`).
    public var allowBulkLoad = true
    /// The latest event time accepted, epoch ms (`IngestConfig.latestEventMillis`); a later event is a bad row.
    /// Nil accepts any time.
    public var latestEventMillis: Int64?
    /// Event names whose imported rows are handed to `onWatchedEvents` once their batch is written (the events
    /// that end or answer journey instances).
    public var watchedEvents: Set<String> = []
    /// Called after each written batch with its events named in `watchedEvents`, if any.
    public var onWatchedEvents: (@Sendable ([EventRecord]) async throws -> Void)?

    /// An importer.
    public init(
        store: any AudienceStore, schema: AttributeSchema, batchSize: Int = 50_000, maxLineBytes: Int = 1 << 20,
        maxListedDiagnostics: Int = 100
    ) {
        self.store = store
        self.schema = schema
        self.batchSize = max(1, batchSize)
        self.maxLineBytes = maxLineBytes
        self.maxListedDiagnostics = maxListedDiagnostics
    }

    /// Imports a users file (NDJSON, CSV, or Segment calls, whose `track` calls are imported too).
    public func importUsers(
        path: String, format: ImportFormat, progress: (ImportProgress) -> Void = { _ in }
    ) async throws -> ImportReport {
        let session = ImportSession(importer: self, path: path)
        let reader = try LineReader(path: path, maxLine: maxLineBytes)
        switch format {
        case .ndjson: try await session.run(reader, progress: progress) { s, line in s.userLine(line) }
        case .segment: try await session.run(reader, progress: progress) { s, line in s.segmentLine(line) }
        case .csv: try await session.runCSV(reader, progress: progress)
        }
        return try await session.finish()
    }

    /// Imports an events file (NDJSON, or Segment calls, whose `identify` calls are imported too).
    public func importEvents(
        path: String, format: ImportFormat, progress: (ImportProgress) -> Void = { _ in }
    ) async throws -> ImportReport {
        let session = ImportSession(importer: self, path: path)
        let reader = try LineReader(path: path, maxLine: maxLineBytes)
        if format == .csv {
            throw ImportFormatError(description: "events are imported from NDJSON or Segment files, not CSV")
        }
        // About 110 bytes per event line in typical exports.
        let estimate = Int(reader.totalBytes / 110)
        let bulk =
            allowBulkLoad && estimate >= bulkLoadThreshold
            ? try await store.beginBulkLoad(estimatedEvents: estimate) : false
        do {
            try await session.run(reader, progress: progress) { s, line in
                if format == .segment { s.segmentLine(line) } else { s.eventLine(line) }
            }
        } catch {
            if bulk { _ = try? await store.endBulkLoad() }
            throw error
        }
        var report = try await session.finish()
        if bulk {
            // Duplicates found when the deferred identity index was built were counted as inserted.
            let removed = try await store.endBulkLoad()
            report.inserted -= removed
            report.unchanged += removed
        }
        return report
    }
}

/// The state of one import: pending batches, the report, the diagnostics.
final class ImportSession {
    let importer: Importer
    let path: String
    var log: DiagnosticLog
    var report = ImportReport()
    var users: [UserUpsert] = []
    var events: [EventRecord] = []
    /// Push devices of the pending user rows, written after them.
    var devices: [DeviceRegistration] = []
    var seenUsers = Set<UInt64>()
    var duplicateUsers = 0
    var firstDuplicateLine = 0
    var lineNumber = 0
    /// The write in flight; the next batch is parsed meanwhile.
    private var inflight: Task<(BatchResult, Bool), any Error>?

    init(importer: Importer, path: String) {
        self.importer = importer
        self.path = path
        log = DiagnosticLog(file: path, cap: importer.maxListedDiagnostics)
    }

    /// Reads every line through `handle`, writing full batches as they fill.
    func run(
        _ reader: LineReader, progress: (ImportProgress) -> Void,
        handle: (ImportSession, UnsafeBufferPointer<UInt8>) -> Void
    ) async throws {
        while let chunk = try reader.next() {
            lineNumber = reader.lineNumber
            switch chunk {
            case .tooLong(let length):
                report.read += 1
                reject(column: 1, "line is \(length) bytes, longer than the limit of \(reader.maxLine); skipped")
            case .text(let line):
                if isBlank(line) { continue }
                report.read += 1
                handle(self, line)
            }
            if users.count >= importer.batchSize || events.count >= importer.batchSize {
                try await flush()
                progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, rows: report.read))
            } else if report.read & 0x3FFF == 0 {
                progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, rows: report.read))
            }
        }
        try await flush()
        try await drain()
        progress(ImportProgress(bytesRead: reader.bytesRead, totalBytes: reader.totalBytes, rows: report.read))
    }

    /// Records a bad row at the current line.
    func reject(column: Int, _ message: String, source: UnsafeBufferPointer<UInt8>? = nil) {
        report.rejected += 1
        log.add(line: lineNumber, column: column, message, source: source.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Records a bad JSON row given a byte offset into the line.
    func reject(offset: Int, _ message: String, line: UnsafeBufferPointer<UInt8>) {
        reject(column: Self.column(of: offset, in: line), message, source: line)
    }

    /// The 1-based character column of byte `offset` (continuation bytes do not count).
    static func column(of offset: Int, in line: UnsafeBufferPointer<UInt8>) -> Int {
        var col = 1
        for k in 0..<min(offset, line.count) where line[k] & 0xC0 != 0x80 { col += 1 }
        return col
    }

    /// Queues a user row, noting ids already seen in this file.
    func addUser(_ u: UserUpsert) {
        var h = StableHash()
        h.add(u.id)
        if !seenUsers.insert(h.value).inserted {
            duplicateUsers += 1
            if firstDuplicateLine == 0 { firstDuplicateLine = lineNumber }
        }
        users.append(u)
    }

    /// Starts writing the pending batches (after the previous write has finished).
    func flush() async throws {
        if users.isEmpty && events.isEmpty { return }
        try await drain()
        let store = importer.store
        let (u, e, d) = (users, events, devices)
        users.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
        devices.removeAll(keepingCapacity: true)
        let (watched, hook) = (importer.watchedEvents, importer.onWatchedEvents)
        inflight = Task {
            var r = BatchResult()
            if !u.isEmpty { r = r + (try await store.upsertUsers(u)) }
            if !d.isEmpty {
                guard let registry = store as? any DeviceStore else {
                    throw DeviceJSONError("this store keeps no push devices")
                }
                try await registry.registerDevices(d, at: Int64(Date().timeIntervalSince1970))
            }
            if !e.isEmpty { r = r + (try await store.insertEvents(e)) }
            if let hook, !watched.isEmpty {
                let seen = e.filter { watched.contains($0.name) }
                if !seen.isEmpty { try await hook(seen) }
            }
            return (r, !e.isEmpty)
        }
    }

    /// Waits for the write in flight and counts its result.
    func drain() async throws {
        guard let task = inflight else { return }
        inflight = nil
        let (r, _) = try await task.value
        report.inserted += r.inserted
        report.updated += r.updated
        report.unchanged += r.unchanged
    }

    /// The report, with the summaries.
    func finish() async throws -> ImportReport {
        try await drain()
        if duplicateUsers > 0 {
            let n = duplicateUsers
            log.summarise("duplicates", .note, line: firstDuplicateLine, column: 1) { _ in
                "\(n) row\(n == 1 ? "" : "s") repeated an id seen earlier in the file; later rows were merged over earlier ones"
            }
        }
        report.diagnostics = log.finish()
        report.omittedDiagnostics = log.omitted
        return report
    }

    private func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in line where c != 0x20 && c != 0x09 { return false }
        return true
    }
}
