import HeraldLedger

/// Splits RFC 4180 CSV into records, line by line: a quoted field may span lines, `""` is a quote.
struct CSVRecordParser {
    /// The cells of the record just completed.
    private(set) var cells: [String] = []
    /// The line the current record started on.
    private(set) var startLine = 0
    private var current: [UInt8] = []
    private var inQuotes = false
    private var pending = false
    let maxRecord: Int

    init(maxRecord: Int) { self.maxRecord = maxRecord }

    /// True while a quoted field is open across lines.
    var isOpen: Bool { pending }

    /// Feeds one line; true when a record is complete in `cells`. Throws for a malformed record.
    mutating func feed(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(RowError) -> Bool {
        if !pending {
            cells.removeAll(keepingCapacity: true)
            current.removeAll(keepingCapacity: true)
            startLine = lineNumber
            inQuotes = false
        } else {
            current.append(0x0A)
        }
        var i = 0
        var quotedJustClosed = false
        if !pending, line.isEmpty { return try closeRecord() }
        var atFieldStart = !pending
        while i < line.count {
            let c = line[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < line.count && line[i + 1] == UInt8(ascii: "\"") {
                        current.append(c)
                        i += 2
                        continue
                    }
                    inQuotes = false
                    quotedJustClosed = true
                } else {
                    current.append(c)
                }
                i += 1
                continue
            }
            if c == UInt8(ascii: ",") {
                try closeCell()
                atFieldStart = true
                quotedJustClosed = false
            } else if quotedJustClosed {
                reset()
                throw RowError(column: cells.count + 1, message: "unexpected character after a closing quote")
            } else if c == UInt8(ascii: "\"") && atFieldStart {
                inQuotes = true
                atFieldStart = false
            } else {
                current.append(c)
                atFieldStart = false
            }
            i += 1
        }
        if current.count > maxRecord {
            reset()
            throw RowError(column: cells.count + 1, message: "record longer than \(maxRecord) bytes")
        }
        if inQuotes {
            pending = true
            return false
        }
        return try closeRecord()
    }

    /// Called at the end of the file: throws when a quoted field was never closed.
    mutating func finish() throws(RowError) {
        if pending {
            reset()
            throw RowError(column: cells.count + 1, message: "unterminated quoted field (opened on this line)")
        }
    }

    private mutating func closeRecord() throws(RowError) -> Bool {
        try closeCell()
        pending = false
        return true
    }

    private mutating func closeCell() throws(RowError) {
        guard let s = String(validating: current, as: UTF8.self) else {
            let field = cells.count + 1
            reset()
            throw RowError(column: field, message: "invalid UTF-8 in field \(field)")
        }
        cells.append(s)
        current.removeAll(keepingCapacity: true)
    }

    private mutating func reset() {
        pending = false
        inQuotes = false
        current.removeAll(keepingCapacity: true)
    }
}
