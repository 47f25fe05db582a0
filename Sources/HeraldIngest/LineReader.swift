import HeraldLedger

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file could not be read.
public struct ImportFileError: Error, Sendable, CustomStringConvertible {
    /// The path as given.
    public var path: String
    /// The system's reason.
    public var reason: String
    /// `cannot read PATH: REASON`.
    public var description: String { "cannot read \(path): \(reason)" }
}

/// One line handed out by `LineReader`: its bytes (valid until the next call) or only its length when too long.
enum LineChunk {
    /// The line without its terminator (`\n` or `\r\n`).
    case text(UnsafeBufferPointer<UInt8>)
    /// A line longer than the cap: skipped without being buffered.
    case tooLong(length: Int)
}

/// Reads a file in fixed chunks (1 MiB by default) and splits it into lines in constant memory.
final class LineReader {
    private let fd: Int32
    private let path: String
    private let chunkSize: Int
    /// The longest line handed out; longer ones become `.tooLong`.
    let maxLine: Int
    private let chunk: UnsafeMutablePointer<UInt8>
    private let carry: UnsafeMutablePointer<UInt8>
    private var start = 0
    private var end = 0
    private var carryCount = 0
    private var skipping = false
    private var skipped = 0
    private var atEOF = false
    private var first = true
    /// Bytes read from the file so far.
    private(set) var bytesRead: Int64 = 0
    /// The file's size at open (0 for pipes).
    let totalBytes: Int64
    /// The 1-based number of the line last returned.
    private(set) var lineNumber = 0

    /// Opens `path`.
    init(path: String, chunkSize: Int = 1 << 20, maxLine: Int = 1 << 20) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImportFileError(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        totalBytes = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
        self.chunkSize = max(chunkSize, 16)
        self.maxLine = max(maxLine, 1)
        chunk = .allocate(capacity: self.chunkSize)
        carry = .allocate(capacity: self.maxLine)
    }

    deinit {
        close(fd)
        chunk.deallocate()
        carry.deallocate()
    }

    /// The next line, or nil at the end of the file.
    func next() throws -> LineChunk? {
        while true {
            if start < end {
                let base = chunk + start
                let n = end - start
                if let hit = memchr(base, 0x0A, n) {
                    let len = UnsafeMutableRawPointer(hit).assumingMemoryBound(to: UInt8.self) - base
                    start += len + 1
                    if skipping {
                        skipping = false
                        return finishTooLong(extra: len)
                    }
                    if carryCount > 0 {
                        if carryCount + len > maxLine {
                            let total = carryCount + len
                            carryCount = 0
                            lineNumber += 1
                            return .tooLong(length: total)
                        }
                        (carry + carryCount).update(from: base, count: len)
                        let total = carryCount + len
                        carryCount = 0
                        return finishText(carry, total)
                    }
                    if len > maxLine {
                        lineNumber += 1
                        return .tooLong(length: len)
                    }
                    return finishText(base, len)
                }
                start = end
                if skipping {
                    skipped += n
                } else if carryCount + n > maxLine {
                    skipping = true
                    skipped = carryCount + n
                    carryCount = 0
                } else {
                    (carry + carryCount).update(from: base, count: n)
                    carryCount += n
                }
            }
            if atEOF {
                if skipping {
                    skipping = false
                    return finishTooLong(extra: 0)
                }
                if carryCount > 0 {
                    let total = carryCount
                    carryCount = 0
                    return finishText(carry, total)
                }
                return nil
            }
            let got = read(fd, chunk, chunkSize)
            if got < 0 {
                if errno == EINTR { continue }
                throw ImportFileError(path: path, reason: String(cString: strerror(errno)))
            }
            if got == 0 { atEOF = true }
            bytesRead += Int64(got)
            start = 0
            end = got
        }
    }

    private func finishTooLong(extra: Int) -> LineChunk {
        lineNumber += 1
        first = false
        let total = skipped + extra
        skipped = 0
        return .tooLong(length: total)
    }

    private func finishText(_ p: UnsafeMutablePointer<UInt8>, _ count: Int) -> LineChunk {
        lineNumber += 1
        var p = p
        var n = count
        if n > 0 && p[n - 1] == 0x0D { n -= 1 }
        if first {
            first = false
            if n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
                p += 3
                n -= 3
            }
        }
        return .text(UnsafeBufferPointer(start: p, count: n))
    }
}
