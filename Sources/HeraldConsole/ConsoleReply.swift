import Hummingbird

/// Console responses, each with the same protective headers: no caching, a strict Content-Security-Policy,
/// no framing, no sniffing, no referrer.
enum ConsoleReply {
    /// The headers every console response carries.
    static func headers(contentType: String) -> HTTPFields {
        var h = HTTPFields()
        h[.contentType] = contentType
        h[.cacheControl] = "no-store"
        h[HTTPFields.Element.Name("Content-Security-Policy")!] = ConsoleAssets.contentSecurityPolicy
        h[HTTPFields.Element.Name("X-Content-Type-Options")!] = "nosniff"
        h[HTTPFields.Element.Name("X-Frame-Options")!] = "DENY"
        h[HTTPFields.Element.Name("Referrer-Policy")!] = "no-referrer"
        return h
    }

    /// An HTML page.
    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        bytes(page, contentType: "text/html; charset=utf-8", status: status)
    }

    /// Plain text.
    static func text(_ s: String, status: HTTPResponse.Status = .ok) -> Response {
        bytes(s, contentType: "text/plain; charset=utf-8", status: status)
    }

    /// A body of `contentType`.
    static func bytes(_ s: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: headers(contentType: contentType), body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    /// 303 See Other to `location` (after a POST the browser GETs it).
    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var h = headers(contentType: "text/plain; charset=utf-8")
        h[.location] = location
        if let cookie { h[.setCookie] = cookie }
        return Response(status: .seeOther, headers: h, body: .init(byteBuffer: ByteBuffer(string: "see \(location)\n")))
    }
}
