import Foundation
import HeraldCore
import HeraldLedger
import Hummingbird

extension APIRoutes {
    /// A user's consent as `GET|PUT /v1/users/{id}/preferences` show it; `true` means opted out.
    ///
    /// `{"user": "u1", "global": false, "channels": {"sms": true}, "topics": {"promotions": true},
    ///   "updated_at": 1767225600}`. A PUT body has any of `global`, `channels`, `topics` and changes
    /// only what it names, e.g. `{"topics": {"promotions": false}}` opts back in to promotions.
    struct PreferencesBody: Encodable {
        /// The user id.
        var user: String
        /// Opted out of everything.
        var global: Bool
        /// Channel name → opted out.
        var channels: [String: Bool]
        /// Topic name → opted out.
        var topics: [String: Bool]
        /// When a choice was last recorded, epoch seconds.
        var updatedAt: Int64?

        /// JSON names.
        enum CodingKeys: String, CodingKey {
            case user, global, channels, topics
            case updatedAt = "updated_at"
        }
    }

    /// `GET /v1/users/{id}/preferences`.
    func preferences(_ user: String) async throws -> Response {
        let p = try await deps.store.preferences(userID: user)
        return APIReply.json(
            PreferencesBody(
                user: user, global: p.globalOptOut, channels: p.channels, topics: p.topics,
                updatedAt: p.updatedAt))
    }

    /// `PUT /v1/users/{id}/preferences`: validates the whole body, then records each choice.
    func setPreferences(_ user: String, _ request: Request) async throws -> Response {
        let body = try await jsonObject(request)
        try body.onlyKeys(["global", "channels", "topics"])
        var changes: [(PreferenceScope, Bool)] = []
        let topics = await deps.backend.declaredTopics() ?? deps.config.topics
        if let global = try body.bool("global", path: "global") { changes.append((.global, global)) }
        for group in ["channels", "topics"] {
            guard let value = body[group] else { continue }
            guard case .object(let map) = value else {
                throw APIError(.badRequest, "'\(group)' must be an object of name: true|false", field: group)
            }
            for name in map.keys.sorted() {
                let path = "\(group).\(name)"
                guard let out = try map.bool(name, path: path) else { continue }
                if group == "channels" {
                    guard ChannelKind(rawValue: name) != nil else {
                        throw APIError(
                            .badRequest, "unknown channel '\(name)' (email, sms, webhook or push)", field: path)
                    }
                    changes.append((.channel(name), out))
                } else {
                    guard !name.isEmpty, name.count <= 64,
                        !name.contains(where: { $0.isNewline || $0 == "\0" })
                    else {
                        throw APIError(.badRequest, "a topic name must be 1 to 64 characters", field: path)
                    }
                    // Only declared topics: a misspelt one would record an opt-out no campaign ever reads.
                    if let undeclared = Topic.undeclared(name, among: topics) {
                        let hint = undeclared.suggestion.map { "; \($0)" } ?? ""
                        throw APIError(.badRequest, undeclared.message + hint, field: path)
                    }
                    changes.append((.topic(name), out))
                }
            }
        }
        guard !changes.isEmpty else {
            throw APIError(.badRequest, "nothing to change: give global, channels or topics")
        }
        let now = deps.clock()
        for (scope, out) in changes {
            try await deps.store.setPreference(userID: user, scope: scope, optedOut: out, at: now)
        }
        return try await preferences(user)
    }

    /// `POST /v1/campaigns/{id}/trigger` with an optional `{"occurrence": "…", "users": ["u1", …]}`.
    func trigger(_ campaign: String, _ request: Request) async throws -> Response {
        let body = try await jsonObject(request, limit: Self.batchLimit, allowEmpty: true)
        try body.onlyKeys(["occurrence", "users"])
        /// The occurrence.
        var occurrence: String?
        if let v = body["occurrence"] {
            guard case .string(let s) = v, !s.isEmpty, s.count <= 200 else {
                throw APIError(
                    .badRequest, "'occurrence' must be a string of 1 to 200 characters", field: "occurrence")
            }
            occurrence = s
        }
        var users: [String]?
        if let v = body["users"] {
            guard case .array(let list) = v else {
                throw APIError(.badRequest, "'users' must be an array of user ids", field: "users")
            }
            users = try list.enumerated().map { (i, item) throws(APIError) -> String in
                guard case .string(let id) = item, !id.isEmpty else {
                    throw APIError(.badRequest, "'users' must be an array of user ids", field: "users", index: i)
                }
                if let problem = UserID.problem(id) {
                    throw APIError(.badRequest, "'users[\(i)]' \(problem)", field: "users", index: i)
                }
                return id
            }
        }
        do {
            let result = try await deps.backend.trigger(
                campaign: campaign, occurrence: occurrence, users: users)
            return APIReply.json(result)
        } catch let error as TriggerError {
            switch error {
            case .unknownCampaign(let id): throw APIError(.notFound, "no campaign '\(id)'")
            case .notAPITriggered(let id):
                throw APIError(
                    .conflict, "campaign '\(id)' is not triggered by the API (its trigger is not 'api')")
            case .notActive(let id): throw APIError(.conflict, "campaign '\(id)' is not active")
            }
        }
    }

    /// One ledger row as `GET /v1/sends` lists it; the address is masked.
    struct SendRow: Encodable {
        /// The row id.
        var id: Int64?
        /// The unique key (campaign, occurrence, user, step).
        var idempotencyKey: String
        /// The campaign.
        var campaign: String
        /// The occurrence.
        var occurrence: String?
        /// The experiment variant.
        var variant: String?
        /// The user id.
        var user: String
        /// The channel.
        var channel: String?
        /// The masked address.
        var address: String?
        /// The status (docs/ledger.md).
        var status: String
        /// Why it was suppressed, if it was.
        var reason: String?
        /// When it is or was due, epoch seconds.
        var scheduledAt: Int64?
        /// Delivery attempts so far.
        var attempts: Int
        /// The provider's message id.
        var providerMessageId: String?
        /// The last delivery error.
        var error: String?
        /// When the row was written.
        var createdAt: Int64
        /// When the row last changed.
        var updatedAt: Int64
        /// When the provider accepted it.
        var sentAt: Int64?
        /// First open.
        var openedAt: Int64?
        /// First click.
        var clickedAt: Int64?

        /// JSON names, as the ledger's columns (docs/ledger.md).
        enum CodingKeys: String, CodingKey {
            case id, campaign, occurrence, variant, user, channel, address, status, reason, attempts, error
            case idempotencyKey = "idempotency_key"
            case scheduledAt = "scheduled_at"
            case providerMessageId = "provider_message_id"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
            case sentAt = "sent_at"
            case openedAt = "opened_at"
            case clickedAt = "clicked_at"
        }

        /// The row for an entry.
        init(_ e: LedgerEntry) {
            id = e.id
            idempotencyKey = e.idempotencyKey
            campaign = e.campaign
            occurrence = e.occurrence
            variant = e.variant
            user = e.user
            channel = e.channel?.rawValue
            address = e.address.map(ContactValidator.mask)
            status = e.status.rawValue
            reason = e.reason
            scheduledAt = e.scheduledAt
            attempts = e.attempts
            providerMessageId = e.providerMessageID
            error = e.error
            createdAt = e.createdAt
            updatedAt = e.updatedAt
            sentAt = e.sentAt
            openedAt = e.openedAt
            clickedAt = e.clickedAt
        }
    }

    /// `GET /v1/sends?campaign=&user=&status=&limit=` (limit 1…1000, default 100), newest first.
    func sends(_ request: Request) async throws -> Response {
        let q = FormEncoding.dictionary(Array((request.uri.query ?? "").utf8)) ?? [:]
        var status: LedgerStatus?
        if let s = q["status"], !s.isEmpty {
            guard let parsed = LedgerStatus(rawValue: s) else {
                let all = LedgerStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.badRequest, "unknown status '\(s)' (one of \(all))", field: "status")
            }
            status = parsed
        }
        var limit = 100
        if let l = q["limit"] {
            guard let n = Int(l), (1...1000).contains(n) else {
                throw APIError(.badRequest, "'limit' must be a number from 1 to 1000", field: "limit")
            }
            limit = n
        }
        let rows = try await deps.ledger.entries(
            campaign: q["campaign"].flatMap { $0.isEmpty ? nil : $0 },
            user: q["user"].flatMap { $0.isEmpty ? nil : $0 },
            status: status, limit: limit)
        return APIReply.json(rows.map(SendRow.init))
    }
}
