import Crypto
import Synchronization

/// VAPID (RFC 8292): identifies Herald to push services with an ES256 JWT per push-service origin, signed by the
/// application server key the browsers subscribed with; each token is reused until an hour before it expires.
public final class VAPIDSigner: Sendable {
    /// How long a token is valid (push services refuse more than 24 hours).
    public static let lifetime = 12 * 3600
    /// A token is replaced when it has less than this left (seconds).
    public static let renewBefore = 3600
    /// The most origins whose tokens are kept.
    static let maxCached = 64

    /// The contact URI (`sub`): `mailto:` or `https:`.
    public let subject: String
    /// The application server public key, uncompressed point in base64url (`k=`, and what browsers subscribe with).
    public let publicKey: String
    /// The key's raw scalar: swift-crypto's key type is not `Sendable`; it is rebuilt only to sign.
    private let keyBytes: [UInt8]
    private let cache = Mutex<[String: (jwt: String, expires: Int)]>([:])

    /// A signer for the P-256 key in `pem` (PKCS#8 or SEC 1); `field` names the configuration in errors.
    public init(subject: String, pem: String, field: String) throws(DeliveryError) {
        guard subject.hasPrefix("mailto:") || subject.hasPrefix("https:") else {
            throw DeliveryError(.invalidRequest, "\(field): the VAPID subject must be a mailto: or https: URI",
                                isRetryable: false)
        }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else {
            throw DeliveryError(.invalidRequest, "\(field): not a P-256 private key in PEM form (a VAPID key)",
                                isRetryable: false)
        }
        self.subject = subject
        keyBytes = Array(key.rawRepresentation)
        publicKey = Base64URL.encode(Array(key.publicKey.x963Representation))
    }

    /// The `Authorization` value for a push to a resource whose origin is `audience`: `vapid t=<JWT>, k=<key>`.
    public func authorization(audience: String, now: Double) throws(DeliveryError) -> String {
        "vapid t=\(try token(audience: audience, now: now)), k=\(publicKey)"
    }

    /// The JWT for `audience` at `now`: the cached one while it has `renewBefore` left, else a new one expiring
    /// `lifetime` from now.
    public func token(audience: String, now: Double) throws(DeliveryError) -> String {
        let seconds = Int(now.rounded(.down))
        return try cache.withLock { (tokens: inout [String: (jwt: String, expires: Int)]) throws(DeliveryError) -> String in
            if let cached = tokens[audience], cached.expires - seconds >= Self.renewBefore,
               cached.expires - seconds <= Self.lifetime {
                return cached.jwt
            }
            let expires = seconds + Self.lifetime
            let header = PushJSON.object([("typ", .string("JWT")), ("alg", .string("ES256"))])
            let claims = PushJSON.object([("aud", .string(audience)), ("exp", .int(expires)), ("sub", .string(subject))])
            guard let key = try? P256.Signing.PrivateKey(rawRepresentation: keyBytes),
                  let jwt = try? JWT.es256(header: header, claims: claims, key: key) else {
                throw DeliveryError(.invalidRequest, "Web Push: signing the VAPID token failed", isRetryable: false)
            }
            if tokens.count >= Self.maxCached { tokens = tokens.filter { $0.value.expires - seconds >= Self.renewBefore } }
            if tokens.count >= Self.maxCached { tokens.removeAll() }
            tokens[audience] = (jwt, expires)
            return jwt
        }
    }

    /// The origin (`scheme://host[:port]`, lowercased, default port left out) of a push resource URL, or nil when
    /// it is not an http(s) URL with a host.
    public static func origin(of endpoint: String) -> String? {
        guard let schemeEnd = endpoint.range(of: "://") else { return nil }
        let scheme = endpoint[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        var authority = endpoint[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority.lowercased()
        guard !host.isEmpty else { return nil }
        let defaultPort = scheme == "https" ? ":443" : ":80"
        if host.hasSuffix(defaultPort) { host.removeLast(defaultPort.count) }
        return scheme + "://" + host
    }
}
