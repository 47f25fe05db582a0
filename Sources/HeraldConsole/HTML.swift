import Foundation
import HeraldCore

/// HTML text and the console's page frame. Everything that comes from outside (user ids, attributes, event
/// names, campaign names, errors) goes through `escape` before it is written into a page.
public enum HTML {
    /// `s` safe as element text and as a quoted attribute value: `& < > " '` as character references.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `s` as one query-string or path component (RFC 3986 unreserved characters kept).
    public static func component(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986's unreserved characters, ASCII only.
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// A link to a user's page.
    static func userLink(_ id: String) -> String {
        "<a href=\"/console/user?id=\(escape(component(id)))\">\(escape(id))</a>"
    }

    /// A POST form of one button, carrying the session's CSRF token.
    static func button(_ label: String, action: String, csrf: String, danger: Bool = false) -> String {
        """
        <form method="post" action="\(escape(action))" class="inline"><input type="hidden" name="csrf" \
        value="\(escape(csrf))"><button type="submit"\(danger ? " class=\"danger\"" : "")>\(escape(label))</button></form>
        """
    }

    /// A POST form with a free-text reason and one button, carrying the session's CSRF token.
    static func action(_ label: String, action: String, csrf: String) -> String {
        """
        <form method="post" action="\(escape(action))" class="inline"><input type="hidden" name="csrf" \
        value="\(escape(csrf))"><input name="reason" placeholder="reason (optional)" aria-label="reason" maxlength="500"> \
        <button type="submit" class="danger">\(escape(label))</button></form>
        """
    }

    /// A table: header cells, then rows of cells already escaped (they may hold links or SVG).
    static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        var out = "<table><thead><tr>"
        for (i, h) in header.enumerated() { out += "<th\(numeric.contains(i) ? " class=\"n\"" : "")>\(escape(h))</th>" }
        out += "</tr></thead><tbody>"
        for row in rows {
            out += "<tr>"
            for (i, cell) in row.enumerated() { out += "<td\(numeric.contains(i) ? " class=\"n\"" : "")>\(cell)</td>" }
            out += "</tr>"
        }
        if rows.isEmpty { out += "<tr><td colspan=\"\(header.count)\" class=\"empty\">none</td></tr>" }
        return out + "</tbody></table>"
    }

    /// An ISO-8601 UTC time, or `-`.
    static func time(_ t: Int64?) -> String {
        t.map { escape(TimestampParser.formatUTC(seconds: $0)) } ?? "-"
    }

    /// A whole page: the frame, the navigation (with sign-out when signed in), the title and `body`.
    static func page(title: String, session: ConsoleSession?, body: String, script: Bool = false) -> String {
        var nav = ""
        if let session {
            nav = """
                <nav><a href="/console/campaigns">Campaigns</a> <a href="/console/queue">Queue</a> \
                <a href="/console/tail">Live tail</a> \
                <form method="get" action="/console/user" class="inline"><input name="id" placeholder="user id" \
                aria-label="user id" required> <button type="submit">Find user</button></form> \
                \(button("Sign out", action: "/console/sign-out", csrf: session.csrf))</nav>
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(escape(title)) · Herald</title><style>\(ConsoleAssets.css)</style>\
            \(script ? "<script src=\"/console/assets/tail.js\" defer></script>" : "")</head>
            <body><header><strong>Herald</strong> \(nav)</header><main><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
    }
}
