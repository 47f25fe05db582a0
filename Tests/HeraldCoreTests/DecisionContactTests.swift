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
        (String(repeating: "a", count: 160), SMSLength.Encoding.gsm7, 160, 1),
        (String(repeating: "a", count: 161), .gsm7, 161, 2),
        (String(repeating: "a", count: 306), .gsm7, 306, 2),
        (String(repeating: "a", count: 307), .gsm7, 307, 3),
        (String(repeating: "€", count: 80), .gsm7, 160, 1),
        (String(repeating: "€", count: 81), .gsm7, 162, 2),
        ("Grüße aus München: 20% Rabatt!", .gsm7, 30, 1),
        (String(repeating: "你", count: 70), .ucs2, 70, 1),
        (String(repeating: "你", count: 71), .ucs2, 71, 2),
        ("Hi 👋", .ucs2, 5, 1),
        (String(repeating: "a", count: 133) + "😀", .ucs2, 135, 3),
    ])
    func smsSegments(_ text: String, _ encoding: SMSLength.Encoding, _ units: Int, _ segments: Int) {
        let m = SMSLength.measure(text)
        #expect(m.encoding == encoding)
        #expect(m.units == units)
        #expect(m.segments == segments)
    }
}
