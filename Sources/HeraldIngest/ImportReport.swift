import HeraldCore
import HeraldLedger

/// The layout of an import file.
public enum ImportFormat: String, Sendable, CaseIterable {
    /// One JSON object per line (users or events, docs/delivery.md#import-formats).
    case ndjson
    /// Users as CSV with a header row and an `id` column.
    case csv
    /// Segment-spec calls, one per line: `identify` upserts a user, `track` adds an event.
    case segment

    /// The format suggested by a file name: `.csv` → csv, otherwise ndjson.
    public static func guess(path: String) -> ImportFormat {
        path.lowercased().hasSuffix(".csv") ? .csv : .ndjson
    }
}

/// How far an import has got, for a progress display.
public struct ImportProgress: Sendable, Hashable {
    /// Bytes of the file read so far.
    public var bytesRead: Int64
    /// The file's size (0 when unknown).
    public var totalBytes: Int64
    /// Rows (non-blank lines or CSV records) read so far.
    public var rows: Int
}

/// What an import did: counts and the problems found, capped.
public struct ImportReport: Sendable, Hashable {
    /// Rows read (blank lines not counted).
    public var read = 0
    /// Rows that created a user or an event.
    public var inserted = 0
    /// Existing users whose stored values changed.
    public var updated = 0
    /// Rows already stored as given (a re-import, a duplicate event).
    public var unchanged = 0
    /// Rows refused (listed among the diagnostics, up to the cap).
    public var rejected = 0
    /// The problems, bad rows first in file order, then the ones summarised per kind.
    public var diagnostics: [Diagnostic] = []
    /// Row problems not listed because of the cap (the last diagnostic says so too).
    public var omittedDiagnostics = 0

    /// An empty report.
    public init() {}

    /// True when any error was found.
    public var hasErrors: Bool { diagnostics.hasErrors }
}

/// Collects diagnostics: per-row ones up to a cap, repeated kinds summarised once with a count.
struct DiagnosticLog {
    struct Summary {
        var severity: Diagnostic.Severity
        var count: Int
        var location: SourceLocation
        var message: (Int) -> String
        var suggestion: String?
    }

    let file: String
    let cap: Int
    private(set) var listed: [Diagnostic] = []
    private(set) var omitted = 0
    private var summaries: [String: Summary] = [:]
    private var order: [String] = []

    init(file: String, cap: Int) {
        self.file = file
        self.cap = cap
    }

    /// A row problem at `line`/`column` with the line's text for the caret.
    mutating func add(
        _ severity: Diagnostic.Severity = .error, line: Int, column: Int, _ message: String, source: String? = nil
    ) {
        guard listed.count < cap else {
            omitted += 1
            return
        }
        listed.append(
            Diagnostic(
                severity, at: SourceLocation(file: file, line: line, column: column), message,
                sourceLine: source.map(Self.clip)))
    }

    /// A problem reported once per `key`, with the count and the first place it occurred.
    mutating func summarise(
        _ key: String, _ severity: Diagnostic.Severity, line: Int, column: Int, suggestion: String? = nil,
        message: @escaping (Int) -> String
    ) {
        if summaries[key] != nil {
            summaries[key]!.count += 1
            return
        }
        order.append(key)
        summaries[key] = Summary(
            severity: severity, count: 1, location: SourceLocation(file: file, line: line, column: column),
            message: message, suggestion: suggestion)
    }

    /// Everything collected: listed rows, the "more not listed" note, then the summaries.
    func finish() -> [Diagnostic] {
        var out = listed
        if omitted > 0 {
            out.append(Diagnostic(.note, at: nil, "\(omitted) more row problems in \(file) not listed"))
        }
        for key in order {
            let s = summaries[key]!
            out.append(Diagnostic(s.severity, at: s.location, s.message(s.count), suggestion: s.suggestion))
        }
        return out
    }

    /// A source line cut to 200 characters for display.
    static func clip(_ s: String) -> String {
        s.count <= 200 ? s : String(s.prefix(200)) + "…"
    }
}
