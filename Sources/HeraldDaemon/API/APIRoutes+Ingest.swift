import Foundation
import HeraldCore
import HeraldLedger
import HeraldIngest
import Hummingbird

extension APIRoutes {
    /// The largest single identify/track body.
    static let singleCallLimit = 64 << 10
    /// The largest batch body.
    static let batchLimit = 1 << 20

    /// What an ingestion request answers once the calls are durable.
    struct IngestReply: Encodable {
        /// Always true: the calls are durable.
        var ok = true
        /// Identify calls taken.
        var users: Int
        /// Track calls taken.
        var events: Int
        /// Rows the store inserted.
        var inserted: Int
        /// Rows the store changed.
        var updated: Int
        /// Rows already stored as given.
        var unchanged: Int
    }

    /// `POST /v1/identify|track|batch`: parse everything first (all-or-nothing), then one durable write.
    func ingest(_ request: Request, shape: SegmentCall.Shape) async throws -> Response {
        let bytes = try await request.bodyBytes(
            limit: shape == .batch ? Self.batchLimit : Self.singleCallLimit)
        let parsed: SegmentCall.Parsed
        do {
            let now = deps.clock()
            parsed = try SegmentCall.parse(
                bytes, schema: deps.config.attributes, shape: shape, receivedAt: now * 1000,
                latest: deps.config.ingest.latestEventMillis(now: now))
        } catch {
            throw APIError(.badRequest, error.message, field: error.field, index: error.index)
        }
        let result = try await deps.backend.ingest(users: parsed.users, events: parsed.events)
        try await applyPushSideEffects(parsed)
        return APIReply.json(
            IngestReply(
                users: parsed.users.count, events: parsed.events.count, inserted: result.inserted,
                updated: result.updated, unchanged: result.unchanged))
    }

    /// A JSON object body of at most `limit` bytes (an empty body is `{}` when `allowEmpty`).
    func jsonObject(_ request: Request, limit: Int = 16 << 10, allowEmpty: Bool = false)
        async throws(APIError)
        -> [String: JSONInput]
    {
        let bytes = try await request.bodyBytes(limit: limit)
        if allowEmpty, bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return [:]
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError(.badRequest, "request body is not valid UTF-8")
        }
        guard let value = try? JSONDecoder().decode(JSONInput.self, from: Data(bytes)) else {
            throw APIError(.badRequest, "malformed JSON")
        }
        guard case .object(let object) = value else { throw APIError(.badRequest, "expected a JSON object") }
        return object
    }
}

/// A small JSON request body (preferences, triggers), decoded strictly: `true` is not `1`.
enum JSONInput: Decodable, Sendable, Hashable {
    /// JSON null.
    case null
    /// true or false.
    case bool(Bool)
    /// Any number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONInput])
    /// An object.
    case object([String: JSONInput])

    /// Decodes whichever kind the value is.
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONInput].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONInput].self))
        }
    }
}

extension Dictionary where Key == String, Value == JSONInput {
    /// Refuses keys outside `known`, naming the first.
    func onlyKeys(_ known: Set<String>) throws(APIError) {
        if let extra = keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError(
                .badRequest, "unknown field '\(extra)' (expected \(known.sorted().joined(separator: ", ")))",
                field: extra)
        }
    }

    /// A boolean member; nil when absent.
    func bool(_ key: String, path: String) throws(APIError) -> Bool? {
        guard let v = self[key] else { return nil }
        guard case .bool(let b) = v else {
            throw APIError(.badRequest, "'\(path)' must be true or false", field: path)
        }
        return b
    }
}
