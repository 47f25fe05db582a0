// The public face of the segment language. The implementation behind it lives in this folder.

/// Where an expression's text sits in its file, so diagnostics point into the file, not the string.
///
/// Expression line 1 starts at (`line`, `column`); expression line k > 1 is file line `line + k - 1`,
/// and its first character is at `continuationColumn` (a YAML block scalar's indentation + 1).
public struct SourceOrigin: Sendable, Hashable {
    /// The file path as the user named it, or a label such as `<command line>`.
    public var file: String
    /// 1-based file line of the expression's first character.
    public var line: Int
    /// 1-based file column of the expression's first character.
    public var column: Int
    /// 1-based file column where each later expression line starts.
    public var continuationColumn: Int

    /// An origin; `continuationColumn` defaults to 1.
    public init(file: String, line: Int = 1, column: Int = 1, continuationColumn: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
        self.continuationColumn = continuationColumn
    }
}

/// The text of one segment expression and where it came from.
public struct SegmentSource: Sendable, Hashable {
    /// The segment's name for named segments (herald.yaml `segments:`), nil for inline ones.
    public var name: String?
    /// The expression.
    public var text: String
    /// Where it sits.
    public var origin: SourceOrigin

    /// A source.
    public init(name: String? = nil, text: String, origin: SourceOrigin) {
        self.name = name
        self.text = text
        self.origin = origin
    }
}
