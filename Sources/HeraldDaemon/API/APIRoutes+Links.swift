import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Hummingbird

extension APIRoutes {
    /// The payload of a genuine token of `kind`; 404 for anything else (forged, garbled, another kind).
    func payload(_ token: String, _ kind: LinkPayload.Kind) throws(APIError) -> LinkPayload {
        guard let p = deps.signer.verify(token), p.kind == kind else {
            throw APIError(.notFound, "this link is not valid (it may have been cut short or altered)")
        }
        return p
    }

    /// What a `/u/{token}` unsubscribes from: the campaign's topic, else email altogether.
    static func scope(_ p: LinkPayload) -> PreferenceScope {
        p.topic.map { .topic($0) } ?? .channel(ChannelKind.email.rawValue)
    }

    /// `GET /u/{token}`: a confirmation page with a POST form. It changes nothing, because mail
    /// scanners and link previews fetch every URL in a message.
    func unsubscribePage(_ token: String) async throws -> Response {
        let p = try payload(token, .unsubscribe)
        let what = p.topic.map { "“\(HTML.escape($0))” messages" } ?? "marketing email"
        return APIReply.html(
            HTML.page(
                title: "Unsubscribe",
                body: """
                    <p>Stop receiving \(what)?</p>
                    <form method="post"><input type="hidden" name="confirm" value="1">
                    <button type="submit">Unsubscribe</button></form>
                    """))
    }

    /// `POST /u/{token}`: RFC 8058 one-click (`List-Unsubscribe=One-Click`) or the page's form.
    func unsubscribe(_ token: String, _ request: Request) async throws -> Response {
        let p = try payload(token, .unsubscribe)
        let body = try await request.bodyBytes(limit: 4096)
        let oneClick = FormEncoding.dictionary(body)?["List-Unsubscribe"] == "One-Click"
        try await deps.store.setPreference(
            userID: p.user, scope: Self.scope(p), optedOut: true, at: deps.clock())
        // The row whose link was used: a staged rollout's unsubscribe guardrail counts it.
        if let key = p.key { _ = try await deps.ledger.markUnsubscribed(key: key, at: deps.clock()) }
        logger.info("unsubscribed", metadata: ["campaign": "\(p.campaign)", "scope": "\(Self.scope(p))"])
        if oneClick { return APIReply.text("unsubscribed\n") }
        return APIReply.html(
            HTML.page(title: "Unsubscribed", body: "<p>You are unsubscribed. Sorry to see you go.</p>"))
    }

    /// A 1×1 transparent GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    /// `GET /o/{token}`: the pixel; records the first open of the message.
    func open(_ token: String) async throws -> Response {
        let p = try payload(token, .open)
        if let key = p.key { _ = try await deps.ledger.markOpened(key: key, at: deps.clock()) }
        return APIReply.bytesResponse(Self.pixel, contentType: "image/gif")
    }

    /// `GET /c/{token}`: 302 to the signed http(s) target; records the first click (and an open).
    func click(_ token: String) async throws -> Response {
        let p = try payload(token, .click)
        guard let target = p.url, Self.isRedirectable(target) else {
            throw APIError(.badRequest, "this link has no web address to go to")
        }
        if let key = p.key { _ = try await deps.ledger.markClicked(key: key, at: deps.clock()) }
        var headers = HTTPFields()
        headers[.location] = target
        headers[.cacheControl] = "no-store"
        return Response(status: .found, headers: headers)
    }

    /// True for an absolute http(s) URL with a host and no control characters.
    static func isRedirectable(_ url: String) -> Bool {
        guard !url.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
            let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else { return false }
        return true
    }
}

/// The few HTML pages the public endpoints show.
enum HTML {
    /// Text made safe inside an element or a quoted attribute.
    static func escape(_ s: String) -> String { LinkRewriter.escape(s) }

    /// A minimal page.
    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <meta name="robots" content="noindex"><title>\(title)</title></head>
        <body>\(body)</body></html>

        """
    }
}
