import HeraldCore
import HeraldLedger

/// A Segment tracking-spec request body (`identify`, `track`, or a `batch` of them), as the HTTP API
/// takes it. Fields go through the importer's row builders, so `POST /v1/*` and
/// `herald users import --format segment` accept exactly the same calls.
public enum SegmentCall {
    /// Which endpoint the body came to.
    public enum Shape: Sendable, Hashable {
        /// `POST /v1/identify`: one call; `type` may be omitted.
        case identify
        /// `POST /v1/track`: one call; `type` may be omitted.
        case track
        /// `POST /v1/batch`: `{"batch": [call, …]}`, each call with its `type`.
        case batch
    }

    /// What a body holds: profile upserts and events, in request order.
    public struct Parsed: Sendable, Hashable {
        /// One upsert per `identify` call.
        public var users: [UserUpsert] = []
        /// One event per `track` call.
        public var events: [EventRecord] = []
        /// Push devices named by calls' `context.device` (`token` and `type`: ios or android).
        public var devices: [DeviceRegistration] = []
    }

    /// Parses a whole body; the first problem throws, naming the field and (in a batch) the call's index.
    /// `receivedAt` (epoch ms) stands in for a `track` call's missing `timestamp`, as Segment does; a
    /// `timestamp` after `latest` (epoch ms, `IngestConfig.latestEventMillis`) is refused.
    public static func parse(
        _ bytes: [UInt8], schema: AttributeSchema, shape: Shape, receivedAt: Int64? = nil, latest: Int64? = nil
    ) throws(SegmentCallError) -> Parsed {
        let members: [JSONMember]
        do throws(JSONError) {
            members = try bytes.withUnsafeBufferPointer { buf throws(JSONError) in
                try JSONParser.parseObject(buf)
            }
        } catch {
            let kind = error.message.hasPrefix("invalid UTF-8") ? "invalid UTF-8" : "malformed JSON"
            throw SegmentCallError("\(kind) at byte \(error.offset + 1): \(error.message)")
        }
        var out = Parsed()
        switch shape {
        case .identify, .track:
            let type = shape == .identify ? "identify" : "track"
            if let given = members.last(where: { $0.key == "type" }), given.value != .string(type) {
                throw SegmentCallError("'type' must be \"\(type)\" on this endpoint", field: "type")
            }
            try add(members, type: type, schema: schema, receivedAt: receivedAt, latest: latest, to: &out)
        case .batch:
            guard let batch = members.last(where: { $0.key == "batch" }) else {
                throw SegmentCallError("missing required field 'batch' (an array of calls)", field: "batch")
            }
            guard case .array(let calls) = batch.value else {
                throw SegmentCallError(
                    "'batch' must be an array, not \(batch.value.kindName)", field: "batch")
            }
            for (index, call) in calls.enumerated() {
                do throws(SegmentCallError) {
                    guard case .object(let callMembers) = call else {
                        throw SegmentCallError("each call must be an object, not \(call.kindName)")
                    }
                    guard let typeMember = callMembers.last(where: { $0.key == "type" }) else {
                        throw SegmentCallError(
                            "missing required field 'type' (identify or track)", field: "type")
                    }
                    guard case .string(let type) = typeMember.value, type == "identify" || type == "track"
                    else {
                        throw SegmentCallError(
                            "'type' must be \"identify\" or \"track\" (other Segment calls are not taken)",
                            field: "type")
                    }
                    try add(
                        callMembers, type: type, schema: schema, receivedAt: receivedAt, latest: latest, to: &out)
                } catch {
                    var e = error
                    e.index = index
                    throw e
                }
            }
        }
        return out
    }

    /// Builds one call's upsert or event from its members.
    private static func add(
        _ members: [JSONMember], type: String, schema: AttributeSchema, receivedAt: Int64?, latest: Int64?,
        to out: inout Parsed
    ) throws(SegmentCallError) {
        if type == "identify" {
            let user = try identify(members, schema: schema)
            out.users.append(user)
            if let device = try device(members, user: user.id) { out.devices.append(device) }
            return
        }
        var b = EventRowBuilder()
        var hasTimestamp = false
        for m in members {
            guard let role = EventRole.segment(m.key) else { continue }
            hasTimestamp = hasTimestamp || role == .timestamp
            do throws(RowError) { try b.add(role: role, m.value, column: m.offset, key: m.key) } catch {
                throw SegmentCallError(error.message, field: m.key)
            }
        }
        if !hasTimestamp, let receivedAt {
            do throws(RowError) {
                try b.add(role: .timestamp, .integer(receivedAt), column: 0, key: "timestamp")
            } catch {
                throw SegmentCallError(error.message, field: "timestamp")
            }
        }
        do throws(RowError) { out.events.append(try b.finish(keys: ("userId", "event"), latest: latest)) } catch {
            throw SegmentCallError(error.message, field: Self.quotedField(error.message))
        }
        if let user = out.events.last?.userID, let device = try device(members, user: user) { out.devices.append(device) }
    }

    /// The push device of a call's `context.device`, when it names a token: Segment's mobile libraries send
    /// `{"token": …, "type": "ios"|"android"}` there.
    static func device(_ members: [JSONMember], user: String) throws(SegmentCallError) -> DeviceRegistration? {
        guard let context = members.last(where: { $0.key == "context" }), case .object(let c) = context.value,
              let device = c.last(where: { $0.key == "device" }), case .object(let d) = device.value,
              let tokenMember = d.last(where: { $0.key == "token" }), case .string(let token) = tokenMember.value,
              !token.isEmpty
        else { return nil }
        guard let typeMember = d.last(where: { $0.key == "type" }), case .string(let type) = typeMember.value,
              let platform = DevicePlatform(segmentType: type), platform != .web
        else {
            throw SegmentCallError("'context.device.type' must be ios or android when a token is given",
                                   field: "context.device.type")
        }
        let registration = DeviceRegistration(userID: user, platform: platform, token: token)
        if let problem = registration.problem {
            throw SegmentCallError("context.device.\(problem)", field: "context.device.token")
        }
        return registration
    }

    /// An `identify` call: `userId` and the `traits` object; an undeclared trait is an error here
    /// (the importer counts it and goes on; an API caller gets told at once).
    private static func identify(_ members: [JSONMember], schema: AttributeSchema) throws(SegmentCallError)
        -> UserUpsert
    {
        var b = UserRowBuilder(schema: schema, line: 1)
        func add(_ key: String, _ value: JSONValue, field: String) throws(SegmentCallError) {
            var log = DiagnosticLog(file: "request", cap: 1)
            do throws(RowError) { try b.add(key: key, .json(value), column: 1, log: &log, name: field) } catch {
                throw SegmentCallError(error.message, field: field)
            }
            if let problem = log.finish().first(where: { $0.severity == .error }) {
                let hint = problem.suggestion.map { " (did you mean '\($0)'?)" } ?? ""
                throw SegmentCallError(
                    "undeclared attribute '\(key)'\(hint): declare it under attributes: in herald.yaml",
                    field: field)
            }
        }
        for m in members {
            if m.key == "userId" {
                try add("id", m.value, field: "userId")
            } else if m.key == "traits" {
                guard case .object(let traits) = m.value else {
                    if m.value == .null { continue }
                    throw SegmentCallError("'traits' must be an object", field: "traits")
                }
                for t in traits where t.key != "id" { try add(t.key, t.value, field: "traits.\(t.key)") }
            }
        }
        do throws(RowError) { return try b.finish() } catch {
            throw SegmentCallError("missing required field 'userId'", field: "userId")
        }
    }

    /// The first `'name'` in a builder's message, for the error's `field`.
    private static func quotedField(_ message: String) -> String? {
        let parts = message.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[1]) : nil
    }
}

/// A body that is not a valid Segment call: what is wrong, the field, and the call's index in a batch.
public struct SegmentCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the field.
    public var message: String
    /// The offending field (`userId`, `traits.plan`, `timestamp`, …), when one is to blame.
    public var field: String?
    /// The call's position in a batch, from 0.
    public var index: Int?

    /// An error.
    init(_ message: String, field: String? = nil, index: Int? = nil) {
        self.message = message
        self.field = field
        self.index = index
    }

    /// `batch[3]: 'timestamp' is not a valid timestamp: …`.
    public var description: String { index.map { "batch[\($0)]: \(message)" } ?? message }
}
