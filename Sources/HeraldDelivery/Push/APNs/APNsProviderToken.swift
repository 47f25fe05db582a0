import Crypto
import Synchronization

/// The APNs provider token: an ES256 JWT signed with the team's .p8 key, reused for every push and renewed
/// every 50 minutes, never more often than every 20 (APNs refuses tokens older than an hour and throttles
/// providers that replace them faster; docs/push.md).
public final class APNsProviderToken: Sendable {
    /// A token and when it was made.
    public struct Token: Sendable, Hashable {
        /// The compact JWT sent as `authorization: bearer …` (a credential: never log it).
        public let jwt: String
        /// Its `iat` claim, epoch seconds.
        public let issuedAt: Int
    }

    /// A token this old (seconds) is replaced before its next use.
    public static let renewAfter = 50 * 60
    /// No token is replaced before it is this old (seconds), even when APNs calls it expired.
    public static let minimumLifetime = 20 * 60

    /// The 10-character team id (`iss`).
    public let teamID: String
    /// The 10-character key id (`kid`).
    public let keyID: String
    /// The key's raw scalar: swift-crypto's key type is not `Sendable`, and a key is rebuilt only to sign (every
    /// 50 minutes).
    private let keyBytes: [UInt8]
    private let current = Mutex<Token?>(nil)

    /// A signer for the .p8 key in `pem` (PKCS#8 or SEC 1 PEM); `field` names the configuration field in errors.
    public init(teamID: String, keyID: String, pem: String, field: String) throws(DeliveryError) {
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else {
            throw DeliveryError(.invalidRequest, "\(field): not a P-256 private key in PEM form (an APNs .p8 key)",
                                isRetryable: false)
        }
        guard !teamID.isEmpty, !keyID.isEmpty else {
            throw DeliveryError(.invalidRequest, "\(field): the APNs team_id and key_id must be set", isRetryable: false)
        }
        self.teamID = teamID
        self.keyID = keyID
        keyBytes = Array(key.rawRepresentation)
    }

    /// The token to send at `now` (epoch seconds): the current one until it is `renewAfter` old, then a new one.
    public func token(now: Double) throws(DeliveryError) -> Token {
        let seconds = Int(now.rounded(.down))
        return try current.withLock { (state: inout Token?) throws(DeliveryError) -> Token in
            if let token = state, seconds - token.issuedAt < Self.renewAfter { return token }
            let token = try sign(issuedAt: seconds)
            state = token
            return token
        }
    }

    /// Called when APNs answered `ExpiredProviderToken` to `refused`: drops it so the next `token(now:)` signs a
    /// new one, unless it is younger than `minimumLifetime` (then a new token would come from the same wrong clock
    /// and break the 20-minute rule). True when a newer token is (or will be) used.
    public func renew(after refused: Token, now: Double) -> Bool {
        current.withLock { state in
            guard let token = state, token == refused else { return true }  // another push already renewed it
            guard Int(now.rounded(.down)) - token.issuedAt >= Self.minimumLifetime else { return false }
            state = nil
            return true
        }
    }

    private func sign(issuedAt: Int) throws(DeliveryError) -> Token {
        let header = PushJSON.object([("alg", .string("ES256")), ("kid", .string(keyID))])
        let claims = PushJSON.object([("iss", .string(teamID)), ("iat", .int(issuedAt))])
        do {
            let key = try P256.Signing.PrivateKey(rawRepresentation: keyBytes)
            return Token(jwt: try JWT.es256(header: header, claims: claims, key: key), issuedAt: issuedAt)
        } catch {
            throw DeliveryError(.invalidRequest, "APNs: signing the provider token failed", isRetryable: false)
        }
    }
}
