/// A store failure that is about the machine, not the request: the caller should answer "try again later"
/// (HTTP 503 with `Retry-After`), log the cause once per interval, and keep running (docs/operations.md).
public enum StorageFault: String, Sendable, Hashable {
    /// The disk (or the database's size limit) is full: writes fail until space returns.
    case full = "storage full"

    /// The fault behind `error`, if it is one (errors of either backend, and errors wrapping them).
    public static func of(_ error: any Error) -> StorageFault? {
        (error as? any StorageFaultReporting)?.storageFault
    }
}

/// An error that can say whether it is a `StorageFault`. Each backend conforms its own error types, so code
/// above the store (the API, the daemon's loops) classifies failures without importing a backend.
public protocol StorageFaultReporting: Error {
    /// The fault this error is, or nil for any other failure.
    var storageFault: StorageFault? { get }
}
