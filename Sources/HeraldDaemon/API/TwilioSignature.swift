import Crypto
import Foundation
import HeraldDelivery

/// Twilio's request signature (`X-Twilio-Signature`).
enum TwilioSignature {
    /// base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name)).
    static func compute(authToken: String, url: String, parameters: [(name: String, value: String)]) -> String
    {
        var data = url
        for p in parameters.sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
            data += p.name + p.value
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(data.utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// True when `signature` is the one Twilio would send for this request (constant-time compare).
    static func isValid(
        _ signature: String, authToken: String, url: String, parameters: [(name: String, value: String)]
    ) -> Bool {
        ConstantTime.equal(signature, compute(authToken: authToken, url: url, parameters: parameters))
    }
}
