import Foundation
import Logging

/// Where and as whom Herald pushes to APNs.
public struct APNsSettings: Sendable, Hashable {
    /// `production` (api.push.apple.com) or `development` (api.sandbox.push.apple.com).
    public enum Environment: String, Sendable, Hashable {
        /// Apps from the App Store, TestFlight and ad-hoc builds.
        case production
        /// Apps built and run from Xcode.
        case development
    }

    /// The app's bundle id (`apns-topic`).
    public var topic: String
    /// Which APNs host.
    public var environment: Environment
    /// Overrides the host: `https://host:port` (tests).
    public var url: String?
    /// TLS settings (a CA file for tests).
    public var tls: TLSOptions
    /// The time limit of one push.
    public var timeout: Duration

    /// Settings.
    public init(topic: String, environment: Environment = .production, url: String? = nil,
                tls: TLSOptions = TLSOptions(), timeout: Duration = .seconds(30)) {
        self.topic = topic
        self.environment = environment
        self.url = url
        self.tls = tls
        self.timeout = timeout
    }

    /// `https://host` pushes go to.
    public var baseURL: String {
        if let url { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        return environment == .production ? "https://api.push.apple.com" : "https://api.sandbox.push.apple.com"
    }
}

/// Pushes to iOS devices over the APNs provider API: HTTP/2 over TLS through the engine, which keeps one
/// multiplexed connection per host, with the token-based (JWT) authentication (docs/push.md).
public struct APNsSender: Sendable {
    /// Where to push.
    public let settings: APNsSettings
    /// The provider token.
    public let providerToken: APNsProviderToken
    private let engine: CurlEngine
    private let warmUp = APNsWarmUp()
    private let now: @Sendable () -> Double
    private let random: @Sendable () -> Double

    /// A sender over `engine`, best one made for APNs alone (`APNsSender.engine()`); `now` is the clock (epoch
    /// seconds) that dates tokens and expirations, `random` the jitter source (uniform in `[0, 1)`).
    public init(settings: APNsSettings, providerToken: APNsProviderToken, engine: CurlEngine,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.settings = settings
        self.providerToken = providerToken
        self.engine = engine
        self.now = now
        self.random = random
    }

    /// An engine for APNs: one curl thread, so every push to a host shares one connection, carrying up to 1,000
    /// streams (what APNs allows) with up to 1,000 pushes in flight; more wait their turn rather than open more
    /// connections.
    public static func engine(logger: Logger = Logger(label: "herald.apns")) -> CurlEngine {
        CurlEngine(maxConnections: 8, maxPerHost: 1000, threads: 1, maxStreams: 1000, logger: logger)
    }

    /// Pushes `content` to the device with `token` as the push of ledger row `key`; the receipt's id is the
    /// `apns-id`. A refused provider token that APNs calls expired is renewed and the push sent once more.
    public func send(_ content: PushContent, token: String, key: String) async throws(PushError) -> PushReceipt {
        guard !token.isEmpty, token.utf8.allSatisfy(\.isASCIIHexDigit) else {
            throw PushError(.deadToken(since: nil), provider: .apns, reason: "BadDeviceToken",
                            "the device token is not hexadecimal")
        }
        let body = try PushPayload.apnsBody(content, key: key)
        let id = PushPayload.apnsID(key: key, deviceToken: token)
        var renewed = false
        while true {
            let clock = now()
            let jwt: APNsProviderToken.Token
            do { jwt = try providerToken.token(now: clock) } catch {
                throw PushError(.credentialsRefused, provider: .apns, reason: "signing_failed", error.message)
            }
            let probe = await warmUp.enter()
            let response: HTTPResponse
            do {
                response = try await engine.send(request(content, token: token, id: id, jwt: jwt.jwt, body: body, now: clock))
            } catch {
                if probe { await warmUp.finished(connected: false) } else { await warmUp.lost() }
                throw PushError.transfer(error, provider: .apns)
            }
            if probe { await warmUp.finished(connected: true) }
            guard let error = Self.classify(response, bodyBytes: body.count, now: clock, jitter: random()) else {
                return PushReceipt(provider: .apns, providerMessageID: response.header("apns-id") ?? id,
                                   status: response.status)
            }
            if error.reason == "ExpiredProviderToken", !renewed, providerToken.renew(after: jwt, now: clock) {
                renewed = true
                continue
            }
            throw error
        }
    }

    /// The request of one push: `POST /3/device/<token>` with the provider token and the `apns-*` headers.
    public func request(_ content: PushContent, token: String, id: String, jwt: String, body: [UInt8], now: Double)
        -> HTTPRequest
    {
        var headers = [HeaderField("authorization", "bearer " + jwt), HeaderField("apns-id", id)]
        headers += Self.headers(content, topic: settings.topic, now: now)
        return HTTPRequest(method: .post, url: settings.baseURL + "/3/device/" + token, headers: headers, body: body,
                           timeout: settings.timeout, tls: settings.tls)
    }

    /// `apns-topic`, `apns-push-type` (alert, or background for a silent push), `apns-priority` (10 for a high
    /// alert, 5 otherwise: APNs refuses 10 for background pushes), `apns-expiration` (now + TTL; 0 for a TTL of
    /// 0) and `apns-collapse-id` (at most 64 bytes).
    public static func headers(_ content: PushContent, topic: String, now: Double) -> [HeaderField] {
        var headers = [HeaderField("apns-topic", topic),
                       HeaderField("apns-push-type", content.isAlert ? "alert" : "background"),
                       HeaderField("apns-priority", content.isAlert && content.priority == .high ? "10" : "5")]
        if let ttl = content.ttl {
            let seconds = min(max(ttl, 0), PushPayload.maxTTL)
            headers.append(HeaderField("apns-expiration", seconds == 0 ? "0" : String(Int(now.rounded(.down)) + seconds)))
        }
        if let collapse = content.collapseID {
            headers.append(HeaderField("apns-collapse-id", PushPayload.apnsCollapseID(collapse)))
        }
        return headers
    }

    /// The classified refusal in `response`, or nil for 200 (docs/push.md has the table).
    public static func classify(_ response: HTTPResponse, bodyBytes: Int, now: Double, jitter: Double) -> PushError? {
        let status = response.status
        guard status != 200 else { return nil }
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body))
        let reason = answer?.reason ?? "HTTP \(status)"
        let retryAfter = response.header("retry-after").flatMap { RetryAfter.seconds($0, now: now) }
        func error(_ verdict: PushError.Verdict, _ text: String) -> PushError {
            PushError(verdict, provider: .apns, status: status, reason: reason, text)
        }
        switch (status, reason) {
        case (410, _):
            let since = answer?.timestamp.map { $0 / 1000 }
            return error(.deadToken(since: since), "the device token is no longer valid for the topic")
        case (400, "BadDeviceToken"):
            return error(.deadToken(since: nil), "APNs says the device token is bad")
        case (413, _):
            return error(.payloadTooLarge(bytes: bodyBytes, limit: PushPayload.apnsLimit), "APNs refused the payload size")
        case (403, "ExpiredProviderToken"):
            return error(.retry(after: PushBackoff.delay(retryAfter: retryAfter, floor: 60, unit: jitter)),
                         "APNs calls the provider token expired; is this host's clock right?")
        case (403, _):
            return error(.credentialsRefused, "APNs refused the provider token: check team_id, key_id and key_file")
        case (429, _), (500..<600, _):
            return error(.retry(after: PushBackoff.delay(retryAfter: retryAfter, unit: jitter)), "APNs asks to retry later")
        default:
            return error(.permanent, "APNs refused the push")
        }
    }

    /// The JSON body of a refusal.
    private struct Answer: Decodable {
        var reason: String?
        var timestamp: Double?
    }
}
