import Testing

@testable import HeraldCore

@Suite("Decision: contact checks and SMS length")
struct DecisionContactTests {
    @Test(arguments: [
        ("+4915123456789", true), ("+15550001111", true), ("+8613800138000", true), ("+12345678", true),
        ("+1234567", false), ("+1234567890123456", false), ("+0123456789", false), ("4915123456789", false),
        ("+49 151 2345678", false), ("+49-1512345678", false), ("", false), ("+", false),
        ("+491512345678a", false),
    ])
    func e164(_ phone: String, _ valid: Bool) {
        #expect(ContactValidator.isE164(phone) == valid, "\(phone)")
    }

    @Test(arguments: [
        ("ann@example.com", true), ("first.last+tag@sub.example.co.uk", true), ("o'brien@example.ie", true),
        ("\"john doe\"@example.com", true), ("user@[192.168.0.1]", true), ("x@a-b.example", true),
        ("plain", false), ("@example.com", false), ("ann@", false), ("ann@localhost", false),
        ("ann@@example.com", false),
        ("a..b@example.com", false), (".a@example.com", false), ("a.@example.com", false),
        ("ann @example.com", false),
        ("ann@exa mple.com", false), ("ann@example.com\r\nBcc: x@y.z", false),
        ("\"a\r\nb\"@example.com", false),
        ("ann@-example.com", false), ("ann@example..com", false),
    ])
    func email(_ address: String, _ valid: Bool) {
        #expect(ContactValidator.isEmail(address) == valid, "\(address)")
    }

    @Test func masking() {
        #expect(ContactValidator.mask("ann@example.com") == "a***@example.com")
        #expect(ContactValidator.mask("+4915123456789") == "+4915*******89")
    }

    @Test(arguments: [
        (String(repeating: "a", count: 160), SMSEncoding.Coding.gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),  // extension table: 2 septets each
        (String(repeating: "€", count: 81), .gsm7, 162, 2),  // 76 pairs (152 septets) + 5: a pair is never split
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 306, 3),  // € moves whole to segment 2
        ("Café à Ñandù {ok}", .gsm7, 19, 1),
        ("Ñandú", .ucs2, 5, 1),
        (String(repeating: "您", count: 70), .ucs2, 70, 1),
        (String(repeating: "您", count: 71), .ucs2, 71, 2),
        (String(repeating: "a", count: 134) + "😀", .ucs2, 136, 3),  // a surrogate pair is not split across segments
        ("", .gsm7, 0, 1),
    ])
    func encodingAndSegments(text: String, coding: SMSEncoding.Coding, units: Int, segments: Int) {
        let e = SMSEncoding(text)
        #expect(e.coding == coding)
        #expect(e.units == units)
        #expect(e.segments == segments)
    }

    @Test("dry-run's segment count is the send's: an escape pair moves whole, an empty text is one message")
    func renderedSegmentsMatchTheSend() {
        // 152 septets, then € (an escape pair that does not fit in the first part), then 152 more: 3 parts.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        let m = SMSEncoding(text)
        #expect(m.segments == 3)
        #expect(m.description == "GSM-7, 306 septets, 3 segments")
        #expect(SMSEncoding("").segments == 1)
    }
}
