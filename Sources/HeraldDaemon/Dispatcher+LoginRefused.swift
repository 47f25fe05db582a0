import HeraldDelivery
import HeraldLedger

extension Dispatcher {
    /// The outcome of a send whose provider refused the login (SMTP 530/534/535, a 4.7.x 454, a gateway's
    /// 401/403): a fault of the configuration, not of the message, so the row goes back to the queue with its
    /// attempt handed back, due when the breaker (which the refusal opened) lets a probe through. The first
    /// refusal since the provider last worked is logged as an error; the rest are not (docs/ledger.md).
    func loginRefused(
        _ key: String, _ error: DeliveryError, provider: String, gate: GateBox?, first: Bool, now: Int64
    ) -> DispatchOutcome {
        if first {
            logger.error(
                "\(provider): the provider refused the login; its sends are held, not failed, until the credentials are fixed (reload after fixing them)",
                metadata: ["error": "\(error)"])
        }
        let wait = gate?.snapshot.breaker.wait(now: clock.now()) ?? 60
        return DispatchOutcome(
            key: key, status: .scheduled, reason: "provider_login_refused", error: error.description,
            retryAt: now + max(1, Int64(wait.rounded(.up))))
    }
}
