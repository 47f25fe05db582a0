/// The push channel's way out: one sender per configured provider, each device routed to its own
/// (docs/push.md).
public struct PushSender: Sendable {
    /// iOS devices, when APNs is configured.
    public let apns: APNsSender?
    /// Android devices, when FCM is configured.
    public let fcm: FCMSender?
    /// Browsers, when Web Push is configured.
    public let webPush: WebPushSender?

    /// The senders; a nil one means its devices cannot be reached (the caller writes to the outbox instead).
    public init(apns: APNsSender? = nil, fcm: FCMSender? = nil, webPush: WebPushSender? = nil) {
        self.apns = apns
        self.fcm = fcm
        self.webPush = webPush
    }

    /// True when no provider is configured at all.
    public var isEmpty: Bool { apns == nil && fcm == nil && webPush == nil }

    /// True when pushes to `provider` can be sent.
    public func isConfigured(_ provider: PushProvider) -> Bool {
        switch provider {
        case .apns: apns != nil
        case .fcm: fcm != nil
        case .webPush: webPush != nil
        }
    }

    /// Sends `content` to one device as the push of ledger row `key`.
    public func send(_ content: PushContent, to device: PushDevice, key: String) async throws(PushError) -> PushReceipt {
        switch device {
        case .apns(let token):
            guard let apns else { throw Self.unconfigured(.apns) }
            return try await apns.send(content, token: token, key: key)
        case .fcm(let token):
            guard let fcm else { throw Self.unconfigured(.fcm) }
            return try await fcm.send(content, token: token, key: key)
        case .webPush(let subscription):
            guard let webPush else { throw Self.unconfigured(.webPush) }
            return try await webPush.send(content, to: subscription, key: key)
        }
    }

    /// Sends `content` to every device at once (one ledger row, one result per device, in the devices' order).
    public func send(_ content: PushContent, to devices: [PushDevice], key: String) async -> [PushAttempt] {
        await withTaskGroup(of: (Int, Result<PushReceipt, PushError>).self) { group in
            for (index, device) in devices.enumerated() {
                group.addTask {
                    do throws(PushError) { return (index, .success(try await send(content, to: device, key: key))) }
                    catch { return (index, .failure(error)) }
                }
            }
            var results = [Result<PushReceipt, PushError>?](repeating: nil, count: devices.count)
            for await (index, result) in group { results[index] = result }
            return zip(devices, results).map { PushAttempt(device: $0, result: $1!) }
        }
    }

    /// The payload sizes of `content` for `provider`, as dry-run counts them.
    public static func size(of content: PushContent, key: String, for provider: PushProvider) -> PushPayloadSize {
        PushPayload.size(of: content, key: key, for: provider)
    }

    private static func unconfigured(_ provider: PushProvider) -> PushError {
        PushError(.permanent, provider: provider, reason: "provider_not_configured",
                  "channels.push.\(provider.rawValue) is not configured")
    }
}

/// What happened to a push to one device.
public struct PushAttempt: Sendable, Hashable {
    /// The device.
    public var device: PushDevice
    /// Its receipt, or why it failed.
    public var result: Result<PushReceipt, PushError>

    /// An attempt.
    public init(device: PushDevice, result: Result<PushReceipt, PushError>) {
        self.device = device
        self.result = result
    }
}
