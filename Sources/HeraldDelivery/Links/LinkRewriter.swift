import Foundation
import HeraldCore

/// Rewrites an HTML body for click and open tracking.
public enum LinkRewriter {
    /// `html` with every `href="http(s)://…"` (double- or single-quoted, any case) replaced by
    /// `make(url)`; `mailto:`, `tel:`, relative links, fragments and the URLs in `keeping` (the
    /// unsubscribe link) are left alone. `make` gets the URL with HTML entities `&amp;` decoded;
    /// its result is escaped for the attribute.
    public static func rewriteLinks(html: String, keeping: Set<String> = [], _ make: (String) -> String)
        -> String
    {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        var i = 0
        while i < bytes.count {
            guard let (valueStart, quote) = hrefValue(bytes, at: i) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            guard let valueEnd = bytes[valueStart...].firstIndex(of: quote) else { break }
            out.append(contentsOf: bytes[i..<valueStart])
            let raw = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
            let url = unescape(raw.trimmingSpaces())
            let lower = url.lowercased()
            if (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !keeping.contains(url) {
                out.append(contentsOf: escape(make(url)).utf8)
            } else {
                out.append(contentsOf: bytes[valueStart..<valueEnd])
            }
            i = valueEnd
        }
        if i < bytes.count { out.append(contentsOf: bytes[i...]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// An invisible 1×1 `<img>` loading `url`.
    public static func openPixel(_ url: String) -> String {
        #"<img src="\#(escape(url))" width="1" height="1" alt="" style="display:none;border:0">"#
    }

    /// `html` with the open pixel for `url` just before `</body>`, or at the end when there is none.
    public static func addingOpenPixel(html: String, url: String) -> String {
        guard let close = html.range(of: "</body>", options: [.caseInsensitive, .backwards]) else {
            return html + openPixel(url)
        }
        return html.replacingCharacters(in: close.lowerBound..<close.lowerBound, with: openPixel(url))
    }

    /// When an `href=` attribute starts at `i` (preceded by whitespace), the index after its opening
    /// quote and the quote byte.
    private static func hrefValue(_ b: [UInt8], at i: Int) -> (Int, UInt8)? {
        guard i > 0, b[i - 1] == 0x20 || b[i - 1] == 0x0A || b[i - 1] == 0x09 || b[i - 1] == 0x0D,
            i + 5 < b.count,
            b[i] | 0x20 == UInt8(ascii: "h"), b[i + 1] | 0x20 == UInt8(ascii: "r"),
            b[i + 2] | 0x20 == UInt8(ascii: "e"),
            b[i + 3] | 0x20 == UInt8(ascii: "f")
        else { return nil }
        var j = i + 4
        while j < b.count, b[j] == 0x20 { j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: "=") else { return nil }
        j += 1
        while j < b.count, b[j] == 0x20 { j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: "\"") || b[j] == UInt8(ascii: "'") else { return nil }
        return (j + 1, b[j])
    }

    /// Text made safe inside an HTML element or a quoted attribute.
    public static func escape(_ s: String) -> String { MessageTemplate.escapeHTML(s) }

    /// The common entities an editor puts in a URL attribute, decoded.
    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    fileprivate func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !" \t\r\n".unicodeScalars.contains($0) }),
            let last = scalars.lastIndex(where: { !" \t\r\n".unicodeScalars.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
