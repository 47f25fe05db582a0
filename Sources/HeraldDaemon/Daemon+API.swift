import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger

extension Daemon: APIBackend {
    /// Plans an `api` campaign's occurrence now and wakes the dispatchers.
    public func trigger(campaign: String, occurrence: String?, users: [String]?) async throws -> TriggerResult {
        let r = try await scheduler.trigger(campaign: campaign, occurrence: occurrence, users: users)
        if r.sends > 0 { wakeup.signal() }
        return TriggerResult(
            occurrence: r.occurrence, decisions: r.decisions, sends: r.sends, alreadyPlanned: r.alreadyPlanned)
    }

    /// True while serving (not draining).
    public func isReady() async -> Bool { isReady }

    /// The topics of the campaign book in force.
    public func declaredTopics() async -> [Topic]? { book.current.config.topics }
}

extension MessageLinks {
    /// Signed links under the config's `api.public_url`: one-click unsubscribe, the SMS gateway's delivery
    /// reports, and open/click tracking in HTML email. Without a public URL, messages carry no links that
    /// would point nowhere (and `List-Unsubscribe` is left out). A delivery-report token is bound to its ledger
    /// row and accepted for `reportLifetime` seconds after the send (docs/ledger.md).
    public static func signed(
        by signer: LinkSigner, config: HeraldConfig,
        reportLifetime: Int64 = LinkPayload.deliveryReportLifetime
    ) -> MessageLinks {
        guard let base = config.api.publicURL?.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            !base.isEmpty
        else { return .none }
        let provider = config.channels.sms?.provider.rawValue ?? "kannel"
        return MessageLinks(
            unsubscribe: { user, campaign, key in
                signer.url(
                    LinkPayload(kind: .unsubscribe, user: user, campaign: campaign.id, topic: campaign.topic, key: key),
                    base: base)
            },
            statusCallback: { key, now in
                signer.url(
                    LinkPayload.deliveryReport(key: key, now: now, lifetime: reportLifetime), base: base,
                    provider: provider)
            },
            decorateHTML: { html, user, campaign, key in
                let unsubscribe = signer.url(
                    LinkPayload(kind: .unsubscribe, user: user, campaign: campaign.id, topic: campaign.topic, key: key),
                    base: base)
                let tracked = LinkRewriter.rewriteLinks(html: html, keeping: [unsubscribe]) { target in
                    signer.url(LinkPayload(kind: .click, user: user, campaign: campaign.id, key: key, url: target), base: base)
                }
                let pixel = signer.url(LinkPayload(kind: .open, user: user, campaign: campaign.id, key: key), base: base)
                return LinkRewriter.addingOpenPixel(html: tracked, url: pixel)
            })
    }
}
