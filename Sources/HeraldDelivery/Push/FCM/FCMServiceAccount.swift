import Crypto
import Foundation
import _CryptoExtras

/// A Google service account (the JSON file the Firebase console hands out): who Herald is to FCM, and the key
/// that signs its OAuth 2 grants (docs/push.md).
public struct FCMServiceAccount: Sendable {
    /// The OAuth scope FCM sends need.
    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    /// The lifetime of a grant assertion: the one hour Google allows.
    public static let assertionLifetime = 3600

    /// The Firebase project the messages are sent in.
    public let projectID: String
    /// The account (`iss` of the grant).
    public let clientEmail: String
    /// Where access tokens are obtained (and the grant's audience).
    public let tokenURI: String
    /// The id of the signing key (`kid`), when the file names it.
    public let privateKeyID: String?
    private let key: _RSA.Signing.PrivateKey

    /// The account in `json`; `field` names the configuration field in errors, which never quote the key.
    public init(json: String, field: String) throws(DeliveryError) {
        func bad(_ text: String) -> DeliveryError { DeliveryError(.invalidRequest, "\(field): \(text)", isRetryable: false) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw bad("not a JSON object (expected a service-account file from the Firebase console)")
        }
        func string(_ name: String) throws(DeliveryError) -> String {
            guard let value = object[name] as? String, !value.isEmpty else { throw bad("the field '\(name)' is missing or empty") }
            return value
        }
        if let type = object["type"] as? String, type != "service_account" {
            throw bad("'type' is '\(type)', not 'service_account'")
        }
        projectID = try string("project_id")
        clientEmail = try string("client_email")
        tokenURI = try string("token_uri")
        guard tokenURI.hasPrefix("https://") || tokenURI.hasPrefix("http://") else {
            throw bad("'token_uri' is not an http(s) URL")
        }
        privateKeyID = object["private_key_id"] as? String
        let pem = try string("private_key")
        guard let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) else {
            throw bad("'private_key' is not an RSA private key in PEM form")
        }
        self.key = key
    }

    /// The signed JWT-bearer grant assertion (RFC 7523), RS256 (RSASSA-PKCS1-v1_5 with SHA-256), issued at `now`.
    public func assertion(now: Double) throws(DeliveryError) -> String {
        let issued = Int(now.rounded(.down))
        var header: [(String, PushJSON)] = [("alg", .string("RS256")), ("typ", .string("JWT"))]
        if let kid = privateKeyID { header.append(("kid", .string(kid))) }
        let claims = PushJSON.object([
            ("iss", .string(clientEmail)), ("scope", .string(Self.scope)), ("aud", .string(tokenURI)),
            ("iat", .int(issued)), ("exp", .int(issued + Self.assertionLifetime)),
        ])
        let input = JWT.signingInput(header: .object(header), claims: claims)
        guard let signature = try? key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5) else {
            throw DeliveryError(.invalidRequest, "FCM: signing the OAuth grant failed", isRetryable: false)
        }
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// The form body of the token request.
    func grantBody(now: Double) throws(DeliveryError) -> [UInt8] {
        let assertion = try assertion(now: now)
        // The assertion is base64url and dots only: nothing in it needs form-encoding.
        return Array("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)".utf8)
    }
}
