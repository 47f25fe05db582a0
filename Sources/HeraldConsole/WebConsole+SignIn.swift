import HeraldDelivery
import Hummingbird

extension WebConsole {
    /// The sign-in form (with the reason the last attempt failed).
    func signInPage(error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let message = error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? ""
        let body = """
            \(message)<form method="post" action="/console/sign-in">
            <p><label>API token <input type="password" name="token" id="token" autocomplete="current-password" \
            required autofocus></label> <button type="submit" id="sign-in">Sign in</button></p></form>
            <p class="note">The token is the content of <code>api.token_file</code> (or of <code>api-token</code> \
            beside a SQLite store).</p>
            """
        return ConsoleReply.html(HTML.page(title: "Sign in", session: nil, body: body), status: status)
    }

    /// Checks the token (constant time; failures limited per address), then starts a session.
    func signIn(_ request: Request, _ context: HeraldRequestContext) async throws -> Response {
        let now = deps.clock()
        let address = context.remoteHost ?? "unknown"
        if let wait = throttle.retryAfter(address, now: now) {
            var refused = signInPage(
                error: "Too many failed sign-ins from this address; try again in \(wait) s.", status: .tooManyRequests)
            refused.headers[.retryAfter] = String(wait)
            return refused
        }
        let fields = await Self.form(request) ?? [:]
        guard let token = deps.token else {
            return signInPage(error: "No API token is configured: set api.token_file in herald.yaml.",
                              status: .serviceUnavailable)
        }
        guard let given = fields["token"], ConstantTime.equal(given, token) else {
            throttle.recordFailure(address, now: now)
            deps.logger.warning("console sign-in refused: wrong token", metadata: ["remote": "\(address)"])
            return signInPage(error: "Wrong token.", status: .unauthorized)
        }
        let (id, _) = sessions.create(now: now)
        deps.logger.info("console sign-in", metadata: ["remote": "\(address)"])
        return ConsoleReply.redirect("/console/campaigns", cookie: cookie(id, maxAge: ConsoleSessions.lifetime))
    }

    /// Ends the session and clears the cookie.
    func signOut(_ request: Request) -> Response {
        if let id = Self.cookie(request) { sessions.remove(id) }
        return ConsoleReply.redirect("/console/sign-in", cookie: cookie("", maxAge: 0))
    }

    /// The session cookie: HttpOnly, SameSite=Strict, Path=/console, Secure behind an https public URL.
    func cookie(_ value: String, maxAge: Int64) -> String {
        "\(Self.cookieName)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (deps.secureCookie ? "; Secure" : "")
    }
}
