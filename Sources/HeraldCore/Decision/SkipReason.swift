/// Why a message is not sent: the pipeline's checks, the dispatcher's last check and its handling of a
/// campaign that changed. `description` is the machine-readable reason users see in the ledger, `herald logs`
/// and `herald stats` (docs/ledger.md lists them all).
public enum SkipReason: Sendable, Hashable, CustomStringConvertible {
    /// The user does not match the campaign's audience.
    case notInAudience
    /// The user opted out of everything.
    case unsubscribed
    /// The user opted out of the campaign's topic.
    case optedOutTopic
    /// The user opted out of every channel the campaign could use.
    case optedOutChannel
    /// The user id or the address is on a suppression list.
    case suppressed(list: String)
    /// No address for any channel the campaign could use.
    case noContact
    /// An address that is not a valid email or E.164 number.
    case invalidContact
    /// A frequency cap is full (`any/7d`, `sms/1d`, `campaign/1d`, …).
    case cap(String)
    /// No moment to send inside the delivery window (quiet hours, a window that ended, a paused campaign).
    case windowMissed
    /// A `cancel_if` event happened between the trigger and the send.
    case cancelled(event: String)
    /// The campaign was removed before its row was sent.
    case campaignRemoved
    /// Any other reason, as recorded (a reason read back from the ledger that no case names).
    case other(String)

    /// The reason as users see it: `opted_out:channel`, `cap:any/7d`, `cancelled:purchase`, …
    public var description: String {
        switch self {
        case .notInAudience: "not_in_audience"
        case .unsubscribed: "unsubscribed"
        case .optedOutTopic: "opted_out:topic"
        case .optedOutChannel: "opted_out:channel"
        case .suppressed(let list): "suppressed:" + list
        case .noContact: "no_contact"
        case .invalidContact: "invalid_contact"
        case .cap(let label): "cap:" + label
        case .windowMissed: "window_missed"
        case .cancelled(let event): "cancelled:" + event
        case .campaignRemoved: "campaign_removed"
        case .other(let text): text
        }
    }

    /// The reason `text` names (`.other` for one no case names).
    public init(_ text: String) {
        func after(_ prefix: String) -> String? {
            text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : nil
        }
        switch text {
        case "not_in_audience": self = .notInAudience
        case "unsubscribed": self = .unsubscribed
        case "opted_out:topic": self = .optedOutTopic
        case "opted_out:channel": self = .optedOutChannel
        case "no_contact": self = .noContact
        case "invalid_contact": self = .invalidContact
        case "window_missed": self = .windowMissed
        case "campaign_removed": self = .campaignRemoved
        default:
            if let list = after("suppressed:") {
                self = .suppressed(list: list)
            } else if let label = after("cap:") {
                self = .cap(label)
            } else if let event = after("cancelled:") {
                self = .cancelled(event: event)
            } else {
                self = .other(text)
            }
        }
    }

    /// True when the send was called off by what the user did (`cancel_if`), not held back by a rule: its
    /// row becomes `cancelled`, not `suppressed`.
    public var isCancellation: Bool {
        if case .cancelled = self { return true }
        return false
    }
}
