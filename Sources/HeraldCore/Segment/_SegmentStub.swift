// Temporary stand-in for the segment compiler; deleted when the segment branch merges.

/// The named segments known to a configuration.
public struct SegmentCatalog: Sendable {
    /// A catalog with no named segments.
    public static let empty = SegmentCatalog(names: [])
    /// The names of the named segments.
    public var names: [String]
}

/// A checked segment expression.
public struct CompiledSegment: Sendable {
    /// The expression it was compiled from.
    public var source: SegmentSource
    /// What an audience snapshot must load to evaluate it.
    public var requirements: SnapshotRequirements
}

/// Compiles segment expressions.
public enum SegmentCompiler {
    /// Compiles the named segments of herald.yaml into a catalog.
    public static func catalog(_ named: [SegmentSource], schema: AttributeSchema) -> (SegmentCatalog, [Diagnostic]) {
        (SegmentCatalog(names: named.compactMap(\.name)), [])
    }

    /// Compiles one expression.
    public static func compile(_ source: SegmentSource, schema: AttributeSchema, catalog: SegmentCatalog)
        -> (CompiledSegment?, [Diagnostic])
    {
        if source.text.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            let at = SourceLocation(file: source.origin.file, line: source.origin.line, column: source.origin.column)
            return (nil, [Diagnostic(at: at, "empty segment expression")])
        }
        return (CompiledSegment(source: source, requirements: SnapshotRequirements()), [])
    }
}
