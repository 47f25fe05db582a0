import HeraldCore
import Logging

/// A log handler that shows the control characters of a record's message, metadata and error escaped
/// (`VisibleText`: `\n`, `\u{1B}`) before `inner` writes it. Log lines quote what came from outside (user ids,
/// event names, provider replies, error texts); escaped, none of it can end a line and forge the next one
/// (`… critical …`), or colour the terminal or journal viewer that shows it.
public struct EscapingLogHandler: LogHandler {
    /// The handler that writes.
    public var inner: any LogHandler

    /// Escapes for `inner`.
    public init(_ inner: any LogHandler) {
        self.inner = inner
    }

    /// The level, as `inner` has it.
    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    /// The handler's own metadata, as `inner` has it (escaped when set).
    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue.mapValues(Self.escape) }
    }

    /// The provider, as `inner` has it.
    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    /// One metadata value of the handler's own, as `inner` has it (escaped when set).
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    /// Escapes the record and hands it to `inner`. An error becomes `error.message` / `error.type` metadata
    /// (what `StreamLogHandler` prints for one), escaped too.
    public func log(event: LogEvent) {
        var event = event
        let message = event.message.description
        let escaped = VisibleText.escape(message)
        if escaped != message { event.message = Logger.Message(stringLiteral: escaped) }
        var metadata = event.metadata?.mapValues(Self.escape)
        if let error = event.error {
            metadata = metadata ?? [:]
            metadata?["error.message"] = .string(VisibleText.escape("\(error)"))
            metadata?["error.type"] = .string(VisibleText.escape(String(reflecting: type(of: error))))
            event.error = nil
        }
        event.metadata = metadata
        inner.log(event: event)
    }

    /// `value` with every string in it escaped.
    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(VisibleText.escape(s))
        case .stringConvertible(let c): .string(VisibleText.escape(c.description))
        case .dictionary(let d): .dictionary(d.mapValues(escape))
        case .array(let a): .array(a.map(escape))
        }
    }
}
