import HeraldCore

/// One email to send: who, what, and the keys that make it unique and unsubscribable.
public struct EmailMessage: Sendable, Hashable {
    /// The sender.
    public var from: Mailbox
    /// The recipient.
    public var to: Mailbox
    /// The subject (any Unicode; no CR or LF).
    public var subject: String
    /// The plain-text body.
    public var text: String?
    /// The HTML body.
    public var html: String?
    /// The ledger's idempotency key; `Message-ID` is derived from it.
    public var idempotencyKey: String
    /// The `Date` header, Unix seconds.
    public var date: Int64
    /// The one-click unsubscribe URL (`https://…`); set on marketing mail.
    public var unsubscribeURL: String?
    /// A `mailto:` unsubscribe address, offered next to the URL.
    public var unsubscribeMailto: String?

    /// A message.
    public init(from: Mailbox, to: Mailbox, subject: String, text: String? = nil, html: String? = nil,
                idempotencyKey: String, date: Int64, unsubscribeURL: String? = nil, unsubscribeMailto: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.idempotencyKey = idempotencyKey
        self.date = date
        self.unsubscribeURL = unsubscribeURL
        self.unsubscribeMailto = unsubscribeMailto
    }
}
