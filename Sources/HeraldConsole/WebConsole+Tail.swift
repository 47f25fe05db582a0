import Foundation
import HeraldCore
import HeraldLedger
import Hummingbird
import ServiceLifecycle

extension WebConsole {
    /// Rows the tail page shows as it loads.
    static let tailWindow = 50
    /// How often the event stream reads the change feed.
    static let tailInterval: Duration = .milliseconds(500)
    /// A comment is sent after this much silence, so that proxies keep the stream open.
    static let keepAlive: Duration = .seconds(15)
    /// One stream lasts at most this long; the browser reconnects by itself (`retry:`).
    static let streamLifetime: Duration = .seconds(600)

    /// The live tail: the latest rows, then (with JavaScript) each change as it lands.
    func tailPage(_ session: ConsoleSession) async throws -> Response {
        let window = try await deps.ledger.window(LedgerFilter(), limit: Self.tailWindow)
        let rows = window.items.reversed().map { e in
            Self.tailCells(TailLine(e, at: e.updatedAt, status: e.status, reason: e.reason, attempts: e.attempts))
        }
        let body = """
            <p class="note">The send log, newest first; addresses masked. New changes appear as they are recorded \
            (Server-Sent Events); without JavaScript, reload the page.</p>
            <table id="tail"><thead><tr><th>time</th><th>campaign</th><th>user</th><th>channel</th><th>address</th>\
            <th>status</th><th>attempts</th><th>reason/error</th></tr></thead><tbody>\
            \(rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined())</tbody></table>
            """
        return ConsoleReply.html(HTML.page(title: "Live tail", session: session, body: body, script: true))
    }

    /// `text/event-stream`: one `change` event per ledger change after the stream opened, as JSON.
    func tailEvents() async throws -> Response {
        let ledger = deps.ledger
        let start = try await ledger.window(LedgerFilter(), limit: 0).cursor
        var headers = ConsoleReply.headers(contentType: "text/event-stream; charset=utf-8")
        headers[HTTPFields.Element.Name("X-Accel-Buffering")!] = "no"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                let clock = ContinuousClock()
                let end = clock.now.advanced(by: Self.streamLifetime)
                var cursor = start
                var lastWrite = clock.now
                while !Task.isCancelled, !Task.isShuttingDownGracefully, clock.now < end {
                    let page = try await ledger.changes(after: cursor, LedgerFilter(), limit: 500)
                    cursor = page.cursor
                    if !page.items.isEmpty {
                        let text = page.items.map { "event: change\ndata: \(Self.tailJSON(TailLine($0)))\n\n" }.joined()
                        try await writer.write(ByteBuffer(string: text))
                        lastWrite = clock.now
                    } else if clock.now - lastWrite >= Self.keepAlive {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        lastWrite = clock.now
                    }
                    if page.items.count < 500 { try? await Task.sleep(for: Self.tailInterval) }
                }
                try await writer.finish(nil)
            })
    }

    /// One line of the tail: a row as of one of its changes.
    struct TailLine: Encodable {
        var time: String
        var campaign: String
        var user: String
        var channel: String
        var address: String
        var status: String
        var attempts: Int
        var note: String

        /// Row `e` as of a change at `at` to `status` for `reason`; the address masked as `herald logs` does.
        init(_ e: LedgerEntry, at: Int64, status: LedgerStatus, reason: String?, attempts: Int) {
            // The error belongs to failures; on a later `sent` it is the story of an earlier attempt.
            let error = [LedgerStatus.failed, .bounced, .dead].contains(status) ? e.error : nil
            time = TimestampParser.formatUTC(seconds: at)
            campaign = e.campaign
            user = e.user
            channel = e.channel?.rawValue ?? ""
            address = e.address.map(ContactValidator.mask) ?? ""
            self.status = status.rawValue
            self.attempts = attempts
            note = [reason, error].compactMap { $0 }.joined(separator: "; ")
        }

        /// A followed change.
        init(_ change: LedgerChange) {
            self.init(change.entry, at: change.transition.at, status: change.transition.to,
                      reason: change.transition.reason, attempts: change.attempts)
        }
    }

    /// A tail line's cells, escaped.
    static func tailCells(_ l: TailLine) -> [String] {
        [l.time, l.campaign, l.user, l.channel, l.address, l.status, "\(l.attempts)", l.note].map(HTML.escape)
    }

    /// A tail line as one line of JSON (no raw line breaks, so it is one `data:` field).
    static func tailJSON(_ l: TailLine) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(l), as: UTF8.self)) ?? "{}"
    }
}
