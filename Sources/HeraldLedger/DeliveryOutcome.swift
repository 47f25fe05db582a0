/// What a delivery report says happened to a message.
///
/// Reports only ever move a row forward to a final status (docs/ledger.md): a carrier-reported failure is
/// `bounced`, never `failed`, which is the dispatcher's "retry later" status and would send the message again.
public enum DeliveryOutcome: String, Sendable, Hashable {
    /// The handset or mailbox has it.
    case delivered
    /// The carrier or gateway gave up on this message (Kannel 2, Twilio `failed`/`undelivered`).
    case failed
    /// The gateway's upstream rejected it (Kannel 16, SMSC reject).
    case bounced

    /// The final ledger status the outcome moves a row to.
    public var status: LedgerStatus {
        switch self {
        case .delivered: .delivered
        case .failed, .bounced: .bounced
        }
    }

    /// The machine-readable reason recorded with the move: `dlr:delivered`, `dlr:failed` or `dlr:bounced`.
    public var reason: String { "dlr:\(rawValue)" }

    /// The statuses a report may move a row from: handed to the provider (`sending`, when the report beats
    /// the dispatcher's own write, or `sent`). Every other status is final or not the provider's yet.
    public static let movableStatuses: Set<LedgerStatus> = [.sending, .sent]
}
