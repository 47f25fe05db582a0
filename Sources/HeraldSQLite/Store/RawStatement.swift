import GRDB
import GRDBSQLite
import HeraldLedger

/// Binds values straight to a prepared statement: the event path runs this per row, and
/// GRDB's `StatementArguments` boxing cost about a third of the insert time.
struct RawStatement {
    let db: Database
    let handle: OpaquePointer

    init(_ db: Database, _ statement: Statement) {
        self.db = db
        handle = statement.sqliteStatement
    }

    @inline(__always) func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }

    @inline(__always) func bind(_ i: Int32, _ v: Int64?) {
        if let v { sqlite3_bind_int64(handle, i, v) } else { sqlite3_bind_null(handle, i) }
    }
    @inline(__always) func bind(_ i: Int32, _ v: Double) { sqlite3_bind_double(handle, i, v) }

    @inline(__always) func bind(_ i: Int32, _ v: String?) {
        guard var s = v else {
            sqlite3_bind_null(handle, i)
            return
        }
        s.withUTF8 { buf in
            guard buf.count > 0 else {
                _ = sqlite3_bind_text(handle, i, "", 0, nil)
                return
            }
            // SQLITE_TRANSIENT: SQLite copies the bytes before this call returns.
            _ = sqlite3_bind_text(
                handle, i, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(buf.count),
                unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    /// Advances to the next result row; false when done (the statement is then reset).
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        return false
    }

    @inline(__always) func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    @inline(__always) func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    @inline(__always) func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }

    /// The text of column `i`, nil for NULL.
    @inline(__always) func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i))), as: UTF8.self)
    }

    /// Runs the statement to completion and resets it; throws SQLite's error.
    func run() throws {
        let rc = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}
