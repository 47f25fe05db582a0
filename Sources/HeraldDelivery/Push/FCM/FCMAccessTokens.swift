import Foundation

/// An OAuth 2 access token for FCM and when it expires.
public struct FCMAccessToken: Sendable, Hashable {
    /// Tokens are replaced this many seconds before they expire.
    public static let refreshMargin = 300.0

    /// The bearer token (a credential: never log it).
    public let value: String
    /// When it expires, epoch seconds: the request's start plus `expires_in`.
    public let expiresAt: Double

    /// A token.
    public init(value: String, expiresAt: Double) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// True while the token may still be used at `now`: until `refreshMargin` before it expires.
    public func isFresh(now: Double) -> Bool { now < expiresAt - Self.refreshMargin }
}

/// FCM access tokens from the service account's JWT-bearer grant: cached while fresh, fetched by one request at
/// a time however many pushes wait for it (docs/push.md).
actor FCMAccessTokens {
    private let account: FCMServiceAccount
    private let engine: CurlEngine
    private let tls: TLSOptions
    private let timeout: Duration
    private let now: @Sendable () -> Double
    private let random: @Sendable () -> Double
    private var cached: FCMAccessToken?
    private var fetching: Task<FCMAccessToken, any Error>?

    init(account: FCMServiceAccount, engine: CurlEngine, tls: TLSOptions, timeout: Duration,
         now: @escaping @Sendable () -> Double, random: @escaping @Sendable () -> Double) {
        self.account = account
        self.engine = engine
        self.tls = tls
        self.timeout = timeout
        self.now = now
        self.random = random
    }

    /// A fresh token: the cached one, or one fetched now (joining a fetch already under way).
    func token() async throws(PushError) -> FCMAccessToken {
        if let cached, cached.isFresh(now: now()) { return cached }
        let task: Task<FCMAccessToken, any Error>
        if let fetching {
            task = fetching
        } else {
            task = Task { try await self.fetch() }
            fetching = task
        }
        do {
            let token = try await task.value
            if fetching == task { fetching = nil }
            cached = token
            return token
        } catch {
            if fetching == task { fetching = nil }
            throw error as? PushError ?? PushError.transfer(error, provider: .fcm)
        }
    }

    /// Forgets `token` after FCM refused it, so the next push fetches another.
    func invalidate(_ token: FCMAccessToken) {
        if cached == token { cached = nil }
    }

    private func fetch() async throws -> FCMAccessToken {
        let started = now()
        let body: [UInt8]
        do { body = try account.grantBody(now: started) } catch {
            throw PushError(.credentialsRefused, provider: .fcm, reason: "signing_failed", error.message)
        }
        let request = HTTPRequest(
            method: .post, url: account.tokenURI,
            headers: [HeaderField("Content-Type", "application/x-www-form-urlencoded"), HeaderField("Accept", "application/json")],
            body: body, timeout: timeout, tls: tls)
        let response: HTTPResponse
        do { response = try await engine.send(request) } catch { throw PushError.transfer(error, provider: .fcm) }
        if response.status == 200, let answer = try? JSONDecoder().decode(Granted.self, from: Data(response.body)),
           !answer.access_token.isEmpty {
            return FCMAccessToken(value: answer.access_token, expiresAt: started + Double(answer.expires_in ?? 3600))
        }
        throw Self.classify(response, now: started, jitter: random())
    }

    /// The error of a token request that did not grant a token.
    static func classify(_ response: HTTPResponse, now: Double, jitter: Double) -> PushError {
        let status = response.status
        let refusal = try? JSONDecoder().decode(Refused.self, from: Data(response.body))
        let reason = refusal?.error ?? "HTTP \(status)"
        // Google's error_description names the problem (bad signature, unknown account) and holds no secret.
        let text = "the OAuth token endpoint refused the grant" + (refusal?.error_description.map { ": \($0)" } ?? "")
        switch status {
        case 200:
            return PushError(.retry(after: nil), provider: .fcm, status: status, reason: "bad_token_answer",
                             "the OAuth token endpoint answered 200 without an access token")
        case 408, 429, 500..<600:
            let retryAfter = response.header("retry-after").flatMap { RetryAfter.seconds($0, now: now) }
            return PushError(.retry(after: PushBackoff.delay(retryAfter: retryAfter, unit: jitter)), provider: .fcm,
                             status: status, reason: reason, text)
        default:
            return PushError(.credentialsRefused, provider: .fcm, status: status, reason: reason,
                             text + " (check service_account_file)")
        }
    }

    private struct Granted: Decodable {
        var access_token: String
        var expires_in: Int?
    }

    private struct Refused: Decodable {
        var error: String?
        var error_description: String?
    }
}
