import HeraldCore
@testable import HeraldLedger
import Testing


@Suite struct JSONTests {
    func parse(_ s: String) throws -> [JSONMember] {
        var t = s
        return try t.withUTF8 { buf in try JSONParser.parseObject(buf) }
    }

    @Test func canonicalSortsKeysAndNormalisesNumbers() throws {
        let v = try JSONParser.parse(#"{"b": [1.0, 2.5, -0, 1e2], "a": {"z": "\u00e9\n", "y": null}, "b": true}"#)
        #expect(JSONWriter.canonical(v) == #"{"a":{"y":null,"z":"é\n"},"b":true}"#)
        let w = try JSONParser.parse(#"{"n":[1.0,2.5,1e2,12345678901234567890]}"#)
        #expect(JSONWriter.canonical(w) == #"{"n":[1,2.5,100,1.2345678901234567e+19]}"#)
    }

    @Test func escapesAndSurrogates() throws {
        let m = try parse(#"{"k":"a\"b\\c\/d\ud83d\ude00"}"#)
        #expect(m[0].value == .string("a\"b\\c/d😀"))
    }

    @Test(arguments: [
        (#"{"a":1,}"#, 8), (#"{"a":tru}"#, 6), (#"{"a":"x"} x"#, 11), (#"{"a":01}"#, 7),
        (#"{"a":"\q"}"#, 7), (#"{"a" 1}"#, 6), (#"{"a":[1 2]}"#, 9), ("", 1),
    ])
    func syntaxErrorsCarryTheirOffset(text: String, column: Int) {
        var t = text
        let offset: Int? = t.withUTF8 { buf in
            do throws(JSONError) {
                _ = try JSONParser.parseObject(buf)
                return nil
            } catch { return error.offset + 1 }
        }
        #expect(offset == column)
    }

    @Test func stringArraysRoundTrip() {
        let items = ["a", "b;c", "\"q\"", "中"]
        #expect(JSONWriter.parseStringArray(JSONWriter.stringArray(items)) == items)
    }
}

@Suite struct StableHashTests {
    @Test func matchesFNV1aReferenceValues() {
        var h = StableHash()
        h.add(bytes: Array("a".utf8))
        #expect(h.value == 0xaf63_dc4c_8601_ec8c)
        var e = StableHash()
        e.add(bytes: Array("foobar".utf8))
        #expect(e.value == 0x8594_4171_f739_67e8)
    }

    @Test func eventIdentityPrefersMessageIDElseProperties() {
        let a = EventRecord(userID: "u", name: "x", timestampMillis: 1, propertiesJSON: "{\"a\":1}", messageID: "m")
        var b = a
        b.propertiesJSON = "{\"a\":2}"
        #expect(StableHash.eventIdentity(a) == StableHash.eventIdentity(b))
        b.messageID = nil
        #expect(StableHash.eventIdentity(a) != StableHash.eventIdentity(b))
        var c = b
        c.propertiesJSON = "{\"a\":1}"
        #expect(StableHash.eventIdentity(c) != StableHash.eventIdentity(b))
    }
}
