import GRDB
import HeraldLedger

extension DatabaseError: StorageFaultReporting {
    /// SQLITE_FULL: the disk is full, or the database reached its `max_page_count`.
    public var storageFault: StorageFault? { resultCode == .SQLITE_FULL ? .full : nil }
}
