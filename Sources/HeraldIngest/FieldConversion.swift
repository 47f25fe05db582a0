import HeraldCore
import HeraldLedger

/// One input field: a JSON value (NDJSON, Segment) or a CSV cell's text.
enum FieldInput {
    case json(JSONValue)
    case text(String)

    /// What the field holds, for messages.
    var kindName: String {
        switch self {
        case .json(let v): v.kindName
        case .text: "text"
        }
    }

    /// True for JSON null.
    var isNull: Bool { if case .json(.null) = self { true } else { false } }
}

/// A field that could not be converted: a message naming the field.
struct FieldError: Error {
    var message: String
}

/// Conversions of input fields to the types of docs/delivery.md#import-formats.
enum FieldConversion {
    /// An id (user or message): a non-empty string or an integer.
    static func identifier(_ f: FieldInput, field: String) throws(FieldError) -> String {
        switch f {
        case .json(.string(let s)) where !s.isEmpty: return s
        case .json(.integer(let i)): return String(i)
        case .text(let s) where !s.isEmpty: return s
        default: throw FieldError(message: "'\(field)' must be a non-empty string, not \(f.kindName)")
        }
    }

    /// A user id: `identifier`, within the id alphabet (`UserID`, docs/api.md).
    static func userID(_ f: FieldInput, field: String) throws(FieldError) -> String {
        let id = try identifier(f, field: field)
        if let problem = UserID.problem(id) { throw FieldError(message: "'\(field)' \(problem)") }
        return id
    }

    /// A text field; JSON null clears it.
    static func text(_ f: FieldInput, field: String) throws(FieldError) -> String? {
        switch f {
        case .json(.null): return nil
        case .json(.string(let s)), .text(let s): return s
        default: throw FieldError(message: "'\(field)' must be a string, not \(f.kindName)")
        }
    }

    /// Epoch milliseconds from ISO-8601 with an offset, epoch seconds/ms, or a numeric string.
    static func millis(_ f: FieldInput, field: String) throws(FieldError) -> Int64 {
        let r: Result<Int64, TimestampParser.Failure>
        switch f {
        case .json(.string(let s)), .text(let s): r = parseTimestamp(s)
        case .json(.integer(let i)): r = TimestampParser.fromEpoch(Double(i))
        case .json(.number(let d)): r = TimestampParser.fromEpoch(d)
        default: throw FieldError(message: "'\(field)' must be a timestamp, not \(f.kindName)")
        }
        switch r {
        case .success(let ms): return ms
        case .failure(let e): throw FieldError(message: "'\(field)' is not a valid timestamp: \(e.reason)")
        }
    }

    /// `TimestampParser.parse`, skipping its (character-based, slow) trimming for the common
    /// ISO-8601 text that starts with a digit and holds a '-'.
    static func parseTimestamp(_ s: String) -> Result<Int64, TimestampParser.Failure> {
        let u = s.utf8
        if let first = u.first, first >= 48, first <= 57, let last = u.last, last > 0x20, u.count > 10,
            u.contains(UInt8(ascii: "-"))
        {
            return TimestampParser.parseISO(s)
        }
        return TimestampParser.parse(s)
    }

    /// Epoch seconds (floor) of a timestamp; JSON null clears it.
    static func seconds(_ f: FieldInput, field: String) throws(FieldError) -> Int64? {
        if f.isNull { return nil }
        return secondsOf(millis: try millis(f, field: field))
    }

    /// A birthday: `YYYY-MM-DD`, or the date written in an ISO-8601 timestamp; null clears it.
    static func date(_ f: FieldInput, field: String) throws(FieldError) -> CivilDate? {
        if f.isNull { return nil }
        guard case .json(.string(let s)) = f else {
            if case .text(let s) = f { return try date(.json(.string(s)), field: field) }
            throw FieldError(message: "'\(field)' must be a date as YYYY-MM-DD, not \(f.kindName)")
        }
        if let d = TimestampParser.parseDate(s) { return d }
        if s.utf8.count > 10, case .success = TimestampParser.parseISO(s),
            let d = TimestampParser.parseDate(String(s.prefix(10)))
        {
            return d
        }
        throw FieldError(message: "'\(field)' is not a valid date (expected YYYY-MM-DD): \"\(s)\"")
    }

    /// A custom attribute converted to its declared type; null clears it.
    static func attribute(_ f: FieldInput, type: AttributeType, field: String) throws(FieldError) -> Value {
        if f.isNull { return .null }
        func wrong() -> FieldError {
            FieldError(message: "attribute '\(field)' is declared \(type.rawValue) but the value is \(describe(f))")
        }
        switch type {
        case .string:
            switch f {
            case .json(.string(let s)), .text(let s): return .string(s)
            case .json(.integer(let i)): return .string(String(i))
            case .json(.number(let d)): return .string(JSONWriter.format(d))
            case .json(.bool(let b)): return .string(b ? "true" : "false")
            default: throw wrong()
            }
        case .number:
            switch f {
            case .json(.integer(let i)): return .number(Double(i))
            case .json(.number(let d)): return .number(d)
            case .json(.string(let s)), .text(let s):
                guard let d = Double(s.trimmingCharacters()), d.isFinite else { throw wrong() }
                return .number(d)
            default: throw wrong()
            }
        case .bool:
            switch f {
            case .json(.bool(let b)): return .bool(b)
            case .json(.string(let s)), .text(let s):
                switch s.lowercased() {
                case "true", "1", "yes", "y": return .bool(true)
                case "false", "0", "no", "n": return .bool(false)
                default: throw wrong()
                }
            case .json(.integer(let i)) where i == 0 || i == 1: return .bool(i == 1)
            default: throw wrong()
            }
        case .timestamp:
            do throws(FieldError) {
                return .timestamp(secondsOf(millis: try millis(f, field: field)))
            } catch {
                throw FieldError(message: "attribute " + error.message)
            }
        case .list:
            switch f {
            case .json(.array(let items)):
                var out: [String] = []
                for item in items {
                    guard case .string(let s) = item else {
                        throw FieldError(
                            message: "attribute '\(field)' is a list of strings but holds \(item.kindName)")
                    }
                    out.append(s)
                }
                return .list(out)
            case .json(.string(let s)), .text(let s):
                return .list(s.split(separator: ";").map { String($0).trimmingCharacters() }.filter { !$0.isEmpty })
            default: throw wrong()
            }
        }
    }

    /// A short quote of a field value for messages.
    static func describe(_ f: FieldInput) -> String {
        switch f {
        case .json(.string(let s)), .text(let s): "\"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case .json(let v): v.kindName
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingCharacters() -> String {
        let u = utf8
        guard let a = u.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let b = u.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        return String(self[a...b])
    }
}
