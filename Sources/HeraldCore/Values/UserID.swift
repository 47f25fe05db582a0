/// The alphabet of user ids, checked on every path that takes one from outside (imports, the HTTP API, the
/// CLI): 1 to 256 bytes of UTF-8, no control character (`VisibleText.isControl`: C0, DEL, C1, U+2028/2029,
/// bidirectional formatting), no leading or trailing whitespace, and not `.` or `..`. An id is printed in
/// logs and tables and travels in URL paths (percent-encoded), so nothing in it may break a line, colour a
/// terminal, or be a path's dot segment. See docs/api.md.
public enum UserID {
    /// The longest id, in bytes of UTF-8.
    public static let maxBytes = 256

    /// Why `id` is not a valid user id (a phrase to follow the field's name), or nil when it is one.
    public static func problem(_ id: String) -> String? {
        let utf8 = id.utf8
        let count = utf8.count
        if count == 0 { return "must not be empty" }
        if count > maxBytes { return "is \(count) bytes long; the limit is \(maxBytes)" }
        var ascii = true
        for b in utf8 {
            if b < 0x20 || b == 0x7F { return controlProblem(id) }
            if b >= 0x80 { ascii = false }
        }
        if !ascii, id.unicodeScalars.contains(where: VisibleText.isControl) { return controlProblem(id) }
        let scalars = id.unicodeScalars
        if scalars.first!.properties.isWhitespace || scalars.last!.properties.isWhitespace {
            return "must not start or end with whitespace"
        }
        if id == "." || id == ".." { return "must not be '.' or '..' (a URL path cannot carry it)" }
        return nil
    }

    /// True when `id` is a valid user id.
    public static func isValid(_ id: String) -> Bool { problem(id) == nil }

    private static func controlProblem(_ id: String) -> String {
        let c = id.unicodeScalars.first(where: VisibleText.isControl)!
        return "must not hold control characters (found \(VisibleText.escape(String(c))))"
    }
}
