import HeraldCore
import HeraldLedger

/// A bad row: the column (or CSV field number) and what is wrong.
struct RowError: Error {
    var column: Int
    var message: String
}

/// Builds a `UserUpsert` from the fields of one row (NDJSON object, CSV record, Segment traits).
struct UserRowBuilder {
    let schema: AttributeSchema
    let line: Int
    private(set) var upsert = UserUpsert(id: "")
    private var hasID = false

    init(schema: AttributeSchema, line: Int) {
        self.schema = schema
        self.line = line
    }

    /// Adds one field; a wrong value throws, an undeclared attribute or unknown zone is summarised in `log`.
    /// `name` is what messages call the field when the input spells it otherwise (Segment's `userId`).
    mutating func add(
        key: String, _ f: FieldInput, column: Int, log: inout DiagnosticLog, name: String? = nil
    ) throws(RowError) {
        do throws(FieldError) {
            switch key {
            case "id":
                upsert.id = try FieldConversion.userID(f, field: name ?? key)
                hasID = true
            case "email": upsert.email = .some(try FieldConversion.text(f, field: key))
            case "phone": upsert.phone = .some(try FieldConversion.text(f, field: key))
            case "locale": upsert.locale = .some(try FieldConversion.text(f, field: key))
            case "timezone":
                let z = try FieldConversion.text(f, field: key)
                upsert.timezone = .some(z)
                if let z, !ZoneTable.shared.isValid(z) {
                    log.summarise("zone:\(z)", .warning, line: line, column: column) { n in
                        "unknown time zone '\(z)' in \(n) row\(n == 1 ? "" : "s"): stored as given; "
                            + "the default timezone applies when evaluating"
                    }
                }
            case "created_at", "createdAt": upsert.createdAt = .some(try FieldConversion.seconds(f, field: key))
            case "last_seen_at", "lastSeenAt": upsert.lastSeenAt = .some(try FieldConversion.seconds(f, field: key))
            case "birthday": upsert.birthday = .some(try FieldConversion.date(f, field: key))
            default:
                guard let type = schema[key] else {
                    let suggestion = NearMiss.didYouMean(key, among: schema.names)
                    log.summarise("undeclared:\(key)", .error, line: line, column: column, suggestion: suggestion) { n in
                        "undeclared attribute '\(key)' in \(n) row\(n == 1 ? "" : "s") (first here): not imported; "
                            + "declare it under attributes: in herald.yaml (the rows' other fields were imported)"
                    }
                    return
                }
                upsert.attributes[key] = try FieldConversion.attribute(f, type: type, field: key)
            }
        } catch {
            throw RowError(column: column, message: error.message)
        }
    }

    /// The upsert; throws when `id` was missing.
    func finish(column: Int = 1) throws(RowError) -> UserUpsert {
        guard hasID else { throw RowError(column: column, message: "missing required field 'id'") }
        return upsert
    }
}

/// Builds an `EventRecord` from the members of one JSON object.
struct EventRowBuilder {
    private var userID: String?
    private var name: String?
    private var millis: Int64?
    private var millisColumn = 0
    private var properties: String?
    private var numbers: [String: Double] = [:]
    private var messageID: String?

    /// Adds one member under its canonical role; false when the key has no role here.
    mutating func add(role: EventRole, _ v: JSONValue, column: Int, key: String) throws(RowError) {
        do throws(FieldError) {
            switch role {
            case .user: userID = try FieldConversion.userID(.json(v), field: key)
            case .name:
                guard case .string(let s) = v, !s.isEmpty else {
                    throw FieldError(message: "'\(key)' must be a non-empty string, not \(v.kindName)")
                }
                name = s
            case .timestamp:
                millis = try FieldConversion.millis(.json(v), field: key)
                millisColumn = column
            case .messageID: messageID = v == .null ? nil : try FieldConversion.identifier(.json(v), field: key)
            case .properties:
                switch v {
                case .null, .object([]): properties = nil
                case .object(let members):
                    properties = JSONWriter.canonical(v)
                    for m in members {
                        if let d = m.value.double { numbers[m.key] = d }
                    }
                default: throw FieldError(message: "'\(key)' must be an object, not \(v.kindName)")
                }
            }
        } catch {
            throw RowError(column: column, message: error.message)
        }
    }

    /// The event; throws naming the first missing required field (at byte offset 0), or a timestamp later than
    /// `latest` (epoch ms; `IngestConfig.maxFutureSkew` past now).
    func finish(keys: (user: String, name: String), latest: Int64? = nil) throws(RowError) -> EventRecord {
        guard let userID else { throw RowError(column: 0, message: "missing required field '\(keys.user)'") }
        guard let name else { throw RowError(column: 0, message: "missing required field '\(keys.name)'") }
        guard let millis else { throw RowError(column: 0, message: "missing required field 'timestamp'") }
        if let latest, millis > latest {
            throw RowError(
                column: millisColumn,
                message: "'timestamp' \(TimestampParser.formatUTC(seconds: secondsOf(millis: millis))) is after "
                    + "\(TimestampParser.formatUTC(seconds: secondsOf(millis: latest))), the latest accepted now "
                    + "(ingest.max_future_skew in herald.yaml)")
        }
        return EventRecord(
            userID: userID, name: name, timestampMillis: millis, propertiesJSON: properties, numbers: numbers,
            messageID: messageID)
    }
}

/// What a key of an event object means.
enum EventRole {
    case user, name, timestamp, properties, messageID

    /// The role of a key in a plain events NDJSON line.
    static func plain(_ key: String) -> EventRole? {
        switch key {
        case "user_id": .user
        case "event": .name
        case "timestamp": .timestamp
        case "properties": .properties
        case "messageId", "message_id": .messageID
        default: nil
        }
    }

    /// The role of a key in a Segment `track` call.
    static func segment(_ key: String) -> EventRole? {
        switch key {
        case "userId": .user
        case "event": .name
        case "timestamp": .timestamp
        case "properties": .properties
        case "messageId": .messageID
        default: nil
        }
    }
}
