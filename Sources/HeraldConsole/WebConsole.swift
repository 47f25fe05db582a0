import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Hummingbird
import Logging

/// The web console at `/console` (docs/console.md): sign-in with the API token, a server-side session in an
/// HttpOnly SameSite=Strict cookie, a CSRF token on every POST, and server-rendered pages.
public struct WebConsole: Sendable {
    /// What the pages read.
    public let deps: ConsoleDependencies
    /// Signed-in browsers.
    public let sessions: ConsoleSessions
    /// Failed sign-ins per address.
    public let throttle: SignInThrottle

    /// The cookie that carries the session id.
    static let cookieName = "herald_console"
    /// Form bodies read at most.
    static let formLimit = 16 * 1024

    /// A console over `deps`.
    public init(_ deps: ConsoleDependencies, sessions: ConsoleSessions = ConsoleSessions(),
                throttle: SignInThrottle = SignInThrottle()) {
        self.deps = deps
        self.sessions = sessions
        self.throttle = throttle
    }

    /// Adds the console's routes to `router`: sign-in outside the session check, everything else behind it.
    public func mount(on router: Router<HeraldRequestContext>) {
        router.get("console") { request, _ in
            ConsoleReply.redirect(session(request) == nil ? "/console/sign-in" : "/console/campaigns")
        }
        router.get("console/sign-in") { request, _ in
            session(request) == nil ? signInPage(error: nil) : ConsoleReply.redirect("/console/campaigns")
        }
        router.post("console/sign-in") { request, context in try await signIn(request, context) }

        let pages = router.group("console").add(middleware: SessionGuard(console: self))
        pages.post("sign-out") { request, _ in signOut(request) }
        pages.get("assets/tail.js") { _, _ in
            ConsoleReply.bytes(ConsoleAssets.tailJS, contentType: "text/javascript; charset=utf-8")
        }
        pages.get("campaigns") { _, context in try await campaignsPage(context.session!) }
        pages.get("campaigns/{id}") { _, context in
            try await campaignPage(try Self.parameter("id", context), context.session!)
        }
        pages.get("journeys/{id}") { _, context in
            try await journeyPage(try Self.parameter("id", context), context.session!)
        }
        pages.get("user") { request, context in
            try await userPage(request.uri.queryParameters.get("id") ?? "", context.session!)
        }
        pages.get("queue") { _, context in try await queuePage(context.session!) }
        pages.get("tail") { _, context in try await tailPage(context.session!) }
        pages.get("tail/events") { _, _ in try await tailEvents() }
        mountActions(on: pages)
    }

    /// The session a request's cookie names, or nil.
    func session(_ request: Request) -> ConsoleSession? {
        Self.cookie(request).flatMap { sessions.session($0, now: deps.clock()) }
    }

    /// The session id in the request's cookie header(s), or nil.
    static func cookie(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(cookieName + "=") { return String(pair.dropFirst(cookieName.count + 1)) }
            }
        }
        return nil
    }

    /// The percent-decoded path parameter `name`; a 404 page when it is missing or malformed.
    static func parameter(_ name: String, _ context: HeraldRequestContext) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty,
            !value.contains("\0")
        else { throw HTTPError(.notFound) }
        return value
    }

    /// The form fields of a request body of at most `formLimit` bytes; nil when it is larger or malformed.
    static func form(_ request: Request) async -> [String: String]? {
        guard let buffer = try? await request.body.collect(upTo: formLimit) else { return nil }
        return FormEncoding.dictionary(buffer.readableBytesView)
    }
}

/// Admits a console request only with a live session: a page without one is sent to the sign-in form, an
/// event stream or a POST gets 401; a POST also needs the session's CSRF token in its `csrf` field (403).
struct SessionGuard: RouterMiddleware {
    typealias Context = HeraldRequestContext
    let console: WebConsole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let session = console.session(request) else {
            if request.method == .get, !request.uri.path.hasSuffix("/events") {
                return ConsoleReply.redirect("/console/sign-in")
            }
            return ConsoleReply.text("sign in first\n", status: .unauthorized)
        }
        var request = request
        if request.method != .get && request.method != .head {
            guard let buffer = try? await request.body.collect(upTo: WebConsole.formLimit),
                let fields = FormEncoding.dictionary(buffer.readableBytesView),
                ConsoleSessions.csrfMatches(fields["csrf"], session)
            else {
                console.deps.logger.warning("console request refused: missing or wrong CSRF token",
                                            metadata: ["path": "\(request.uri.path)"])
                return ConsoleReply.text("missing or wrong CSRF token; reload the page\n", status: .forbidden)
            }
            // The handler reads the fields again from the body it was given back.
            request.body = .init(buffer: buffer)
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }
}
