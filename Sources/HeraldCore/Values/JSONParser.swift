/// A parsed JSON value (the subset of detail ingestion needs; integers kept exact).
package indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// An integer literal that fits `Int64`.
    case integer(Int64)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The numeric value of `.integer` and `.number`.
    package var double: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }

    /// A short name of the kind, for messages.
    package var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One `"key": value` pair of an object, with the byte offset of its value in the line.
package struct JSONMember: Sendable, Hashable {
    package var key: String
    package var value: JSONValue
    package var offset: Int
}

/// A syntax error at a byte offset.
package struct JSONError: Error, Sendable {
    package var offset: Int
    package var message: String
}

/// A byte-level JSON parser over one line (RFC 8259; rejects invalid UTF-8 and nesting deeper than 64).
package struct JSONParser {
    /// The line being parsed.
    package let b: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    /// Parses a whole line that must hold exactly one JSON object.
    package static func parseObject(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> [JSONMember] {
        var p = JSONParser(bytes)
        p.skipSpace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else {
            throw JSONError(offset: p.i, message: p.i < bytes.count ? "expected a JSON object '{'" : "empty line")
        }
        guard case .object(let members) = try p.value(depth: 0) else {
            throw JSONError(offset: 0, message: "expected a JSON object")
        }
        p.skipSpace()
        guard p.i == bytes.count else { throw JSONError(offset: p.i, message: "unexpected text after the object") }
        return members
    }

    /// Parses a complete JSON text.
    package static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var t = text
        let r: Result<JSONValue, JSONError> = t.withUTF8 { buf in
            var p = JSONParser(buf)
            do throws(JSONError) {
                let v = try p.value(depth: 0)
                p.skipSpace()
                guard p.i == buf.count else { throw JSONError(offset: p.i, message: "unexpected text") }
                return .success(v)
            } catch { return .failure(error) }
        }
        return try r.get()
    }

    private mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            i += 1
        }
    }

    private mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        skipSpace()
        guard i < b.count else { throw JSONError(offset: i, message: "unexpected end of line, expected a value") }
        guard depth < 64 else { throw JSONError(offset: i, message: "nesting deeper than 64 levels") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [JSONMember] = []
            skipSpace()
            if i < b.count && b[i] == UInt8(ascii: "}") {
                i += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after the key") }
                i += 1
                skipSpace()
                let at = i
                members.append(JSONMember(key: key, value: try value(depth: depth + 1), offset: at))
                skipSpace()
                guard i < b.count else { throw fail("unterminated object, expected ',' or '}'") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                } else if b[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object(members)
                } else {
                    throw fail("expected ',' or '}'")
                }
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count && b[i] == UInt8(ascii: "]") {
                i += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("unterminated array, expected ',' or ']'") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                } else if b[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                } else {
                    throw fail("expected ',' or ']'")
                }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw unexpected()
        }
    }

    private func fail(_ message: String) -> JSONError {
        i < b.count && b[i] >= 0x80 ? unexpected() : JSONError(offset: i, message: message)
    }

    private func unexpected() -> JSONError {
        if i >= b.count { return JSONError(offset: i, message: "unexpected end of line") }
        let c = b[i]
        if c >= 0x80 {
            if (try? utf8Length(at: i)) == nil {
                return JSONError(offset: i, message: "invalid UTF-8 byte 0x\(String(c, radix: 16, uppercase: true))")
            }
            return JSONError(offset: i, message: "unexpected character")
        }
        if c < 0x20 { return JSONError(offset: i, message: "unexpected control character") }
        return JSONError(offset: i, message: "unexpected character '\(Character(Unicode.Scalar(c)))'")
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw JSONError(offset: i, message: "unexpected end of line") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] {
            throw JSONError(offset: i, message: "invalid literal, expected '\(word)'")
        }
        i += n
    }

    private mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        var integral = true
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "expected a digit") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < b.count && isDigit(b[i]) { i += 1 }
        }
        if i < b.count && b[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "expected a digit after '.'") }
            while i < b.count && isDigit(b[i]) { i += 1 }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            integral = false
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "expected exponent digits") }
            while i < b.count && isDigit(b[i]) { i += 1 }
        }
        let digits = i - start - (b[start] == UInt8(ascii: "-") ? 1 : 0)
        if integral && digits <= 18 {
            var v: Int64 = 0
            for k in start..<i where isDigit(b[k]) { v = v * 10 + Int64(b[k] - 48) }
            return .integer(b[start] == UInt8(ascii: "-") ? -v : v)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw JSONError(offset: start, message: "number out of range") }
        return .number(d)
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Parses a string starting at the opening quote.
    private mutating func string() throws(JSONError) -> String {
        i += 1
        let start = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            if c >= 0x80 { i += try utf8Length(at: i) } else { i += 1 }
        }
        var out = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw JSONError(offset: i, message: "control character in a string (escape it)") }
            if c >= 0x80 {
                let n = try utf8Length(at: i)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<i + n]))
                i += n
                continue
            }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < b.count else { break }
            switch b[i] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: i + 1)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 2 < b.count, b[i + 1] == UInt8(ascii: "\\"), b[i + 2] == UInt8(ascii: "u") else {
                        throw JSONError(offset: i - 5, message: "unpaired surrogate in \\u escape")
                    }
                    let low = try hex4(at: i + 3)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw JSONError(offset: i + 1, message: "invalid low surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw JSONError(offset: i - 5, message: "unpaired surrogate in \\u escape")
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar)!).utf8))
            default: throw JSONError(offset: i - 1, message: "invalid escape sequence")
            }
            i += 1
        }
        throw JSONError(offset: start - 1, message: "unterminated string")
    }
}
