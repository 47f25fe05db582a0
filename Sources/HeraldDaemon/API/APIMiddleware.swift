import HeraldDelivery
import HeraldLedger
import Hummingbird
import Logging
import Prometheus

/// Outermost middleware: refuses odd paths before routing, turns `APIError`s into JSON replies, hides
/// internal errors, and counts every request by route and status in `herald_http_requests_total`.
struct APIGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where the counter is registered.
    let metrics: PrometheusCollectorRegistry
    /// For internal errors (the message only, never the request).
    let logger: Logger
    /// Storage faults, logged once per interval.
    let faults: FaultLog
    /// What a client is told to wait before retrying a write refused by a storage fault, seconds.
    static var storageRetryAfter: Int { 30 }

    /// Handles one request.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let response: Response
        if let problem = Self.oddPath(request.uri.path) {
            response = APIError(.badRequest, problem).response
        } else {
            do {
                response = try await next(request, context)
                if request.method != .get, request.method != .head, response.status.code < 300 {
                    faults.recovered()
                }
            } catch let error as APIError {
                response = error.response
            } catch let error as any HTTPResponseError {
                let message = error.status == .notFound ? "no such endpoint" : error.status.reasonPhrase
                response = APIError(error.status, message).response
            } catch where faults.record(error, in: "api \(context.endpointPath ?? "unmatched")") {
                // A full disk: the client should come back later, and nothing it sent was stored.
                var refused = APIError(.serviceUnavailable, StorageFault.full.rawValue).response
                refused.headers[.retryAfter] = String(Self.storageRetryAfter)
                response = refused
            } catch {
                logger.error(
                    "API request failed: \(String(describing: type(of: error)))",
                    metadata: [
                        "route": "\(context.endpointPath ?? "unmatched")"
                    ])
                response = APIError(.internalServerError, "internal error; see the daemon log").response
            }
        }
        let route = context.endpointPath ?? "unmatched"
        metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "herald", metricName: "http_requests", unitName: "total",
                helpText: "HTTP requests by route, method and status"),
            labels: [
                ("route", route), ("method", request.method.rawValue),
                ("status", String(response.status.code)),
            ]
        ).increment()
        return response
    }

    /// Why a path is refused before routing, or nil: dot segments (plain or percent-encoded), NUL,
    /// backslashes, empty segments and over-long paths. No route serves files, but no route
    /// should see such a path either. The one exception: the user id of `/v1/users/{id}/…` may hold an
    /// encoded `/` or `\` (`%2F`, `%5C`), since user ids may (docs/api.md).
    static func oddPath(_ path: String) -> String? {
        guard path.utf8.count <= 4096 else { return "path too long" }
        guard path.hasPrefix("/") else { return "malformed path" }
        let lowered = path.lowercased()
        if lowered.contains("%00") || path.contains("\0") { return "malformed path: NUL" }
        if path.contains("\\") { return "malformed path: encoded separator" }
        let segments = lowered.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let userID = segments.starts(with: ["v1", "users"]) ? segments.index(segments.startIndex, offsetBy: 2) : nil
        for (i, segment) in zip(segments.indices, segments) {
            if i != userID && (segment.contains("%2f") || segment.contains("%5c")) {
                return "malformed path: encoded separator"
            }
            let decoded = segment.replacingOccurrences(of: "%2e", with: ".")
            if decoded == "." || decoded == ".." { return "malformed path: dot segment" }
        }
        if path.count > 1 && path.contains("//") { return "malformed path: empty segment" }
        return nil
    }
}

/// Guards `/v1/*`: `Authorization: Bearer <token>` compared in constant time; 503 when no token is configured.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The configured token, if any.
    let token: String?

    /// Handles one request.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token else {
            throw APIError(
                .serviceUnavailable, "the API token is not configured: set api.token_file in herald.yaml")
        }
        guard let header = request.headers[.authorization], header.count > 7,
            header.prefix(7).lowercased() == "bearer ",
            ConstantTime.equal(Array(header.utf8.dropFirst(7)), Array(token.utf8))
        else { throw APIError(.unauthorized, "missing or wrong bearer token") }
        return try await next(request, context)
    }
}
