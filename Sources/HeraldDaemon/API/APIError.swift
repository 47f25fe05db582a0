import Foundation
import HeraldCore
import Hummingbird

/// A refused request: the status and a JSON body `{"error": …, "field": …, "index": …}`.
///
/// Messages say what is wrong and never echo a secret.
struct APIError: Error, Sendable {
    /// The HTTP status (4xx, or 503).
    var status: HTTPResponse.Status
    /// What is wrong.
    var message: String
    /// The offending field, when one is to blame.
    var field: String?
    /// The call's position in a batch.
    var index: Int?

    /// An error.
    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, index: Int? = nil) {
        self.status = status
        self.message = message
        self.field = field
        self.index = index
    }

    /// The JSON body.
    private struct Body: Encodable {
        /// What is wrong.
        var error: String
        /// The offending field.
        var field: String?
        /// The call's index in a batch.
        var index: Int?
    }

    /// The response.
    var response: Response {
        APIReply.json(Body(error: message, field: field, index: index), status: status)
    }
}

/// Building responses.
enum APIReply {
    /// A JSON response with `value` encoded (keys sorted, so bodies are stable).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(value)) ?? Data(#"{"error":"internal error"}"#.utf8)
        return bytesResponse(Array(bytes), contentType: "application/json", status: status)
    }

    /// A response with a body and its content type.
    static func bytesResponse(
        _ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]
    ) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A plain-text response.
    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        bytesResponse(Array(text.utf8), contentType: "text/plain; charset=utf-8", status: status)
    }

    /// An HTML page.
    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        bytesResponse(Array(html.utf8), contentType: "text/html; charset=utf-8", status: status)
    }
}

extension Request {
    /// The whole body, at most `limit` bytes; a longer one is 413.
    func bodyBytes(limit: Int) async throws(APIError) -> [UInt8] {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.contentTooLarge, "request body is \(declared) bytes; the limit here is \(limit)")
        }
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "request body is larger than the limit of \(limit) bytes")
        }
    }

    /// The percent-decoded path parameter `name`; 400 when it is missing, empty or not valid UTF-8.
    func pathParameter(_ name: String, context: some RequestContext) throws(APIError) -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty,
            !value.contains("\0")
        else {
            throw APIError(.badRequest, "the path parameter '\(name)' is missing or malformed", field: name)
        }
        return value
    }

    /// The user id of a `/v1/users/{id}/…` path, percent-decoded (`a%2Fb` is `a/b`); 400 when it is outside
    /// the id alphabet (`UserID`).
    func userIDParameter(_ name: String = "id", context: some RequestContext) throws(APIError) -> String {
        let id = try pathParameter(name, context: context)
        if let problem = UserID.problem(id) {
            throw APIError(.badRequest, "the user id in the path \(problem)", field: name)
        }
        return id
    }
}
