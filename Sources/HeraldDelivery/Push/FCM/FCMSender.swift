import Foundation

/// Where Herald sends FCM messages.
public struct FCMSettings: Sendable, Hashable {
    /// Overrides the send host: `https://host:port` (tests); the path is always FCM's.
    public var url: String?
    /// TLS settings for the send and token hosts (a CA file for tests).
    public var tls: TLSOptions
    /// The time limit of one request.
    public var timeout: Duration

    /// Settings.
    public init(url: String? = nil, tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(30)) {
        self.url = url
        self.tls = tls
        self.timeout = timeout
    }
}

/// Sends to Android devices (and any FCM registration token) with the FCM HTTP v1 API, authenticated by OAuth 2
/// access tokens from a service account (docs/push.md).
public struct FCMSender: Sendable {
    /// The service account.
    public let account: FCMServiceAccount
    /// Where to send.
    public let settings: FCMSettings
    private let tokens: FCMAccessTokens
    private let engine: CurlEngine
    private let now: @Sendable () -> Double
    private let random: @Sendable () -> Double

    /// A sender; `now` is the clock (epoch seconds) that ages access tokens, `random` the jitter source.
    public init(account: FCMServiceAccount, settings: FCMSettings = FCMSettings(), engine: CurlEngine,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.account = account
        self.settings = settings
        self.engine = engine
        self.now = now
        self.random = random
        tokens = FCMAccessTokens(account: account, engine: engine, tls: settings.tls, timeout: settings.timeout,
                                 now: now, random: random)
    }

    /// `…/v1/projects/<project>/messages:send` on FCM's host or the `url` override.
    public var sendURL: String {
        var base = settings.url ?? "https://fcm.googleapis.com"
        if base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/projects/" + account.projectID + "/messages:send"
    }

    /// Sends `content` to registration `token` as the push of ledger row `key`; the receipt's id is FCM's message
    /// name. An access token FCM no longer accepts is dropped and the message sent once more with a new one.
    public func send(_ content: PushContent, token: String, key: String) async throws(PushError) -> PushReceipt {
        let body = try PushPayload.fcmBody(content, key: key, token: token, now: now())
        var retried = false
        while true {
            let access = try await tokens.token()
            let request = HTTPRequest(
                method: .post, url: sendURL,
                headers: [HeaderField("Authorization", "Bearer " + access.value),
                          HeaderField("Content-Type", "application/json; charset=UTF-8")],
                body: body, timeout: settings.timeout, tls: settings.tls)
            let response: HTTPResponse
            do { response = try await engine.send(request) } catch { throw PushError.transfer(error, provider: .fcm) }
            guard let error = Self.classify(response, now: now(), jitter: random()) else {
                let name = try? JSONDecoder().decode(Sent.self, from: Data(response.body)).name
                return PushReceipt(provider: .fcm, providerMessageID: name, status: response.status)
            }
            if error.reason == "UNAUTHENTICATED", !retried {
                // The access token was revoked or expired early: one more try with a new one.
                await tokens.invalidate(access)
                retried = true
                continue
            }
            throw error
        }
    }

    /// The classified refusal in `response`, or nil for 200. The FCM code in `error.details[].errorCode` decides;
    /// the HTTP status only when there is none (docs/push.md has the table).
    public static func classify(_ response: HTTPResponse, now: Double, jitter: Double) -> PushError? {
        let status = response.status
        guard status != 200 else { return nil }
        let error = (try? JSONDecoder().decode(Refusal.self, from: Data(response.body)))?.error
        let code = error?.details?.first { $0.type?.hasSuffix("google.firebase.fcm.v1.FcmError") ?? false }?.errorCode
        let reason = code ?? error?.status ?? "HTTP \(status)"
        let text = error?.message ?? "FCM answered \(status)"
        let retryAfter = response.header("retry-after").flatMap { RetryAfter.seconds($0, now: now) }
        func refused(_ verdict: PushError.Verdict) -> PushError {
            PushError(verdict, provider: .fcm, status: status, reason: reason, text)
        }
        switch code {
        case "UNREGISTERED"?:
            return refused(.deadToken(since: nil))
        case "INVALID_ARGUMENT"?, "SENDER_ID_MISMATCH"?, "THIRD_PARTY_AUTH_ERROR"?:
            // SENDER_ID_MISMATCH is also what every token answers when the service account is of the wrong
            // project, so it must not deactivate devices; THIRD_PARTY_AUTH_ERROR means Firebase's own APNs or Web
            // Push credentials are wrong (fixed in the Firebase console). Neither gets better by retrying.
            return refused(.permanent)
        case "QUOTA_EXCEEDED"?:
            return refused(.retry(after: PushBackoff.delay(retryAfter: retryAfter, floor: PushBackoff.quotaFloor, unit: jitter)))
        case "UNAVAILABLE"?, "INTERNAL"?:
            return refused(.retry(after: PushBackoff.delay(retryAfter: retryAfter, unit: jitter)))
        default:
            break
        }
        switch status {
        case 401:
            return PushError(.credentialsRefused, provider: .fcm, status: status, reason: "UNAUTHENTICATED", text)
        case 403:
            return refused(.credentialsRefused)
        case 408, 429, 500..<600:
            return refused(.retry(after: PushBackoff.delay(retryAfter: retryAfter, unit: jitter)))
        default:
            return refused(.permanent)
        }
    }

    private struct Sent: Decodable {
        var name: String?
    }

    private struct Refusal: Decodable {
        struct Body: Decodable {
            var status: String?
            var message: String?
            var details: [Detail]?
        }

        struct Detail: Decodable {
            var type: String?
            var errorCode: String?

            enum CodingKeys: String, CodingKey {
                case type = "@type"
                case errorCode
            }
        }

        var error: Body?
    }
}
