import Foundation

/// Buffered line output to a file (sample generation writes millions of lines).
final class LineWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    /// Creates (or truncates) `path`.
    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 20)
    }

    /// Appends one line.
    func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(10)
        if buffer.count >= 1 << 20 { flush() }
    }

    /// Writes what is buffered.
    func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes.
    func close() {
        flush()
        try? handle.close()
    }
}
