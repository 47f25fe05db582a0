/// A push that did not go through, classified: what the caller must do about the device and the message.
///
/// Never holds a secret: no provider token, private key, access token or full device token (docs/push.md).
public struct PushError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What to do next.
    public enum Verdict: Sendable, Hashable {
        /// The provider says the token or subscription is dead: deactivate the device, never retry it. `since`
        /// (epoch seconds) is when APNs last knew it dead; a token registered after that revives the device.
        case deadToken(since: Double?)
        /// The payload is over the provider's limit: permanent for this message on this provider.
        case payloadTooLarge(bytes: Int, limit: Int)
        /// The provider refused our credentials or configuration: hold sends until the configuration is fixed.
        case credentialsRefused
        /// The message can never be delivered as it is (bad argument, bad header, unknown path): do not retry.
        case permanent
        /// Try again, not sooner than `after` seconds when given (the provider's Retry-After, floors and jitter
        /// already applied).
        case retry(after: Double?)
    }

    /// What to do next.
    public var verdict: Verdict
    /// The provider that answered.
    public var provider: PushProvider
    /// The HTTP status, when the provider answered.
    public var status: Int?
    /// The provider's reason code: APNs `reason`, FCM `errorCode` (else its `status`), Web Push status text;
    /// this is what a deactivated device records.
    public var reason: String
    /// A readable explanation without secrets.
    public var message: String

    /// An error.
    public init(_ verdict: Verdict, provider: PushProvider, status: Int? = nil, reason: String, _ message: String) {
        self.verdict = verdict
        self.provider = provider
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// True when the device must be deactivated.
    public var isDeadToken: Bool {
        if case .deadToken = verdict { return true }
        return false
    }

    /// `APNs 410 Unregistered: …`.
    public var description: String {
        "\(provider)\(status.map { " \($0)" } ?? "") \(reason): \(message)"
    }

    /// The same failure as a `DeliveryError`, for the retry policy, the provider gate and the ledger: dead tokens
    /// are `deviceGone`, oversize payloads `payloadTooLarge`, refused credentials `loginDenied` (held, not failed),
    /// provider push-back (429, 503, quota) `slowDown`.
    public var deliveryError: DeliveryError {
        let text = description
        switch verdict {
        case .deadToken:
            return DeliveryError(.deviceGone, text, isRetryable: false, status: status)
        case .payloadTooLarge:
            return DeliveryError(.payloadTooLarge, text, isRetryable: false, status: status)
        case .credentialsRefused:
            return DeliveryError(.loginDenied, text, isRetryable: false, status: status)
        case .permanent:
            return DeliveryError(.httpStatus, text, isRetryable: false, status: status)
        case .retry(let after):
            let pushBack = status == 429 || status == 503 || reason == "QUOTA_EXCEEDED"
            return DeliveryError(status == nil ? .connectionFailed : pushBack ? .slowDown : .httpStatus, text,
                                 isRetryable: true, status: status, retryAfter: after)
        }
    }

    /// A retryable error from a failed transfer (no answer, timeout, broken connection); a permanent one for
    /// errors that cannot get better (TLS verification, a refused URL).
    static func transfer(_ error: any Error, provider: PushProvider) -> PushError {
        guard let delivery = error as? DeliveryError else {
            return PushError(.retry(after: nil), provider: provider, reason: "transfer_failed", "\(error)")
        }
        return PushError(delivery.isRetryable ? .retry(after: delivery.retryAfter) : .permanent, provider: provider,
                         status: nil, reason: delivery.code.name.split(separator: " ").joined(separator: "_"),
                         delivery.message)
    }
}

/// How long to wait before retrying a push the provider pushed back on.
public enum PushBackoff {
    /// FCM asks for at least a minute after `QUOTA_EXCEEDED`.
    public static let quotaFloor = 60.0

    /// The provider's Retry-After (or `floor`, whichever is longer) plus up to half of it again as jitter, so the
    /// pushes refused together do not all return at the same instant; `unit` is uniform in `[0, 1)`.
    public static func delay(retryAfter: Double?, floor: Double = 0, unit: Double) -> Double? {
        let base = max(retryAfter ?? 0, floor)
        guard base > 0 else { return nil }
        return base + min(max(unit, 0), 1) * max(1, base / 2)
    }
}
