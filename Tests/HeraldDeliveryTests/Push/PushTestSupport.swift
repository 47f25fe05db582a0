import Crypto
import Foundation
import Synchronization
import Testing

@testable import HeraldDelivery

/// A clock the test moves by hand (epoch seconds).
final class PushTestClock: Sendable {
    private let value: Mutex<Double>

    init(_ start: Double = 1_750_000_000) { value = Mutex(start) }

    var now: @Sendable () -> Double { { self.value.withLock { $0 } } }

    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}

/// A compact JWT taken apart: its header and claims as JSON objects, its signing input and signature bytes.
struct DecodedJWT {
    let header: [String: Any]
    let claims: [String: Any]
    let signingInput: [UInt8]
    let signature: [UInt8]

    init(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3)
        header = try jsonObject(try #require(Base64URL.decode(Array(parts[0].utf8))))
        claims = try jsonObject(try #require(Base64URL.decode(Array(parts[1].utf8))))
        signingInput = Array((parts[0] + "." + parts[1]).utf8)
        signature = try #require(Base64URL.decode(Array(parts[2].utf8)))
    }

    /// True when the signature is a valid ES256 signature by `key`.
    func isValidES256(_ key: P256.Signing.PublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: signingInput)
    }
}

/// The JSON object in `bytes`.
func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

/// A response as the engine would hand it over.
func pushResponse(_ status: Int, _ body: String = "", headers: [HeaderField] = []) -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Array(body.utf8), httpVersion: 2)
}

/// A fresh P-256 key as PKCS#8 PEM (the form of an APNs .p8 key and of a VAPID key file).
func freshP256PEM() -> (P256.Signing.PrivateKey, String) {
    let key = P256.Signing.PrivateKey()
    return (key, key.pemRepresentation)
}
