import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Hummingbird

extension APIRoutes {
    /// The largest inbound SMS or delivery-report body.
    static let callbackLimit = 16 << 10

    /// A gateway callback's parameters: the query's and the form body's, in order.
    struct Callback {
        /// Query parameters.
        var query: [(name: String, value: String)]
        /// Form-encoded body parameters (empty when the body is not a form).
        var form: [(name: String, value: String)]
        /// The raw body.
        var body: [UInt8]

        /// The first value of `name`, from the form, then the query.
        subscript(name: String) -> String? {
            form.first { $0.name == name }?.value ?? query.first { $0.name == name }?.value
        }
    }

    /// Reads a callback's parameters; 400 when they are not valid form encoding.
    func callback(_ request: Request) async throws(APIError) -> Callback {
        let body = try await request.bodyBytes(limit: Self.callbackLimit)
        guard let query = FormEncoding.pairs(Array((request.uri.query ?? "").utf8)) else {
            throw APIError(.badRequest, "malformed query string")
        }
        var form: [(name: String, value: String)] = []
        if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
        {
            guard let pairs = FormEncoding.pairs(body) else {
                throw APIError(.badRequest, "malformed form body")
            }
            form = pairs
        }
        return Callback(query: query, form: form, body: body)
    }

    /// Checks `X-Twilio-Signature` against `api.public_url` + the request's path and query.
    func verifyTwilio(_ request: Request, _ c: Callback) throws(APIError) {
        guard let signature = request.headers[named: "X-Twilio-Signature"] else {
            throw APIError(.unauthorized, "missing X-Twilio-Signature")
        }
        guard let token = deps.twilioAuthToken, let base = deps.config.api.publicURL else {
            throw APIError(
                .forbidden,
                "Twilio callbacks need the SMS provider's auth token and api.public_url configured")
        }
        guard
            TwilioSignature.isValid(
                signature, authToken: token, url: base + request.uri.description, parameters: c.form)
        else { throw APIError(.forbidden, "X-Twilio-Signature does not match") }
    }

    /// `POST /inbound/sms`: a Kannel MO message (shared secret) or a Twilio inbound message (signed);
    /// applies STOP/START to every profile with the sender's number and answers HELP.
    func inboundSMS(_ request: Request) async throws -> Response {
        let c = try await callback(request)
        let isTwilio = request.headers[named: "X-Twilio-Signature"] != nil
        let from: String?
        let text: String?
        if isTwilio {
            try verifyTwilio(request, c)
            from = c["From"]
            text = c["Body"]
        } else {
            let given =
                request.headers[named: "X-Herald-Secret"] ?? c.query.first { $0.name == "secret" }?.value
            guard let given else {
                throw APIError(.unauthorized, "missing X-Herald-Secret (or secret=) for an inbound SMS")
            }
            guard let secret = deps.smsInboundSecret, ConstantTime.equal(given, secret) else {
                throw APIError(.forbidden, "wrong inbound SMS secret")
            }
            let kannelFrom = request.headers[named: "X-Kannel-From"]
            from = kannelFrom ?? c["from"]
            if kannelFrom != nil, c["text"] == nil {
                guard let body = String(validating: c.body, as: UTF8.self) else {
                    throw APIError(.badRequest, "message text is not valid UTF-8")
                }
                text = body
            } else {
                text = c["text"]
            }
        }
        guard let from, !from.isEmpty else {
            throw APIError(.badRequest, "missing the sender's number", field: "from")
        }
        let reply = try await apply(SMSKeyword.classify(text ?? ""), from: from)
        return isTwilio ? Self.twiml(reply) : APIReply.text(reply ?? "")
    }

    /// The suppression list of numbers that texted STOP (reported as `suppressed:sms_stop`).
    static let stopList = "sms_stop"

    /// Records the keyword's choice for every user with this number; the reply text, if any.
    private func apply(_ keyword: SMSKeyword?, from: String) async throws -> String? {
        switch keyword {
        case nil: return nil
        case .help:
            return deps.config.channels.sms?.helpReply
                ?? "Reply STOP to unsubscribe, START to subscribe again."
        case .optOut, .optIn:
            let out = keyword == .optOut
            let users = try await deps.store.usersWithPhone(from)
            let now = deps.clock()
            for user in users {
                try await deps.store.setPreference(
                    userID: user, scope: .channel("sms"), optedOut: out, at: now)
            }
            // The number itself too, so a profile that gets it later (or none has yet) is covered.
            if let number = GatewayNumber.e164(from) {
                if out {
                    try await deps.store.suppress(
                        Suppression(
                            list: Self.stopList, address: number, reason: "STOP by SMS", createdAt: now))
                } else {
                    try await deps.store.unsuppress(list: Self.stopList, address: number)
                }
            }
            logger.info(
                "inbound SMS \(out ? "opt-out" : "opt-in")",
                metadata: ["number": "\(ContactValidator.mask(from))", "users": "\(users.count)"])
            return out
                ? "You are unsubscribed and will get no more messages. Reply START to subscribe again."
                : "You are subscribed again. Reply STOP to unsubscribe."
        }
    }

    /// A TwiML reply: one message, or none.
    static func twiml(_ reply: String?) -> Response {
        let message = reply.map { "<Message>\(HTML.escape($0))</Message>" } ?? ""
        let xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n<Response>\(message)</Response>\n"
        return APIReply.bytesResponse(Array(xml.utf8), contentType: "application/xml")
    }

    /// `POST /dlr/{provider}`: a delivery report from `kannel` (signed, expiring `t` token, `status` bitmask) or
    /// `twilio` (signed request, `MessageSid`/`MessageStatus`). A report only moves a `sending`/`sent` row forward
    /// to `delivered` or `bounced`; anything else, a repeat included, answers "unchanged" (docs/ledger.md).
    func deliveryReport(_ provider: String, _ request: Request) async throws -> Response {
        let c = try await callback(request)
        let key: String?
        let outcome: DeliveryOutcome?
        var error: String?
        switch provider {
        case "kannel":
            guard let t = c.query.first(where: { $0.name == "t" })?.value else {
                throw APIError(.unauthorized, "missing the signed t= token", field: "t")
            }
            let p = try reportPayload(t)
            guard let s = c["status"], let status = Int(s) else {
                throw APIError(.badRequest, "missing or non-numeric status", field: "status")
            }
            key = p.key
            // Kannel DLR types: 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected.
            switch status {
            case 1: outcome = .delivered
            case 2: outcome = .failed
            case 16: outcome = .bounced
            default: outcome = nil
            }
            if outcome != .delivered, outcome != nil { error = "kannel dlr status \(status)" }
        case "twilio":
            try verifyTwilio(request, c)
            guard let sid = c["MessageSid"], let status = c["MessageStatus"] else {
                throw APIError(.badRequest, "missing MessageSid or MessageStatus", field: "MessageSid")
            }
            if let t = c.query.first(where: { $0.name == "t" })?.value {
                key = try reportPayload(t).key
            } else {
                key = try await deps.ledger.key(providerMessageID: sid)
            }
            switch status {
            case "delivered": outcome = .delivered
            case "undelivered", "failed": outcome = .failed
            default: outcome = nil
            }
            if outcome == .failed { error = "twilio \(status)" + (c["ErrorCode"].map { " \($0)" } ?? "") }
        default:
            throw APIError(.notFound, "unknown delivery-report provider '\(provider)' (kannel or twilio)")
        }
        guard let key, let outcome else { return APIReply.text("ignored\n") }
        let changed = try await deps.ledger.recordDelivery(
            key: key, outcome: outcome, error: error, at: deps.clock())
        return APIReply.text(changed ? "recorded\n" : "unchanged\n")
    }

    /// The payload of a delivery-report token that is genuine and not expired; 404 for a forgery, 410 for a
    /// token past its expiry or one issued without any (before tokens expired).
    func reportPayload(_ token: String) throws(APIError) -> LinkPayload {
        let p = try payload(token, .dlr)
        guard let expiresAt = p.expiresAt, deps.clock() <= expiresAt else {
            throw APIError(.gone, "this delivery-report link has expired", field: "t")
        }
        return p
    }
}
