import HeraldCore
import Testing

@testable import HeraldDelivery

/// Delivery-report tokens expire; the links already in users' inboxes keep the encoding they were signed with.
@Suite struct DeliveryReportTokenTests {
    let signer = LinkSigner(key: Array(repeating: 7, count: 32))

    @Test func aReportTokenCarriesItsRowAndExpiry() throws {
        let p = LinkPayload.deliveryReport(key: "promo/api-sale/u1/1", now: 1_793_577_600)
        #expect(p.kind == .dlr && p.key == "promo/api-sale/u1/1")
        #expect(p.expiresAt == Int64(1_793_577_600 + 7 * 86_400))
        #expect(p.encoded.first == UInt8(ascii: "D"))
        let back = try #require(signer.verify(signer.token(p)))
        #expect(back == p)
        // Far-future and zero expiries round-trip too (63-bit varint).
        for e: Int64 in [0, 1, 127, 128, Int64(Int32.max) + 1, Int64.max >> 1] {
            var q = p
            q.expiresAt = e
            #expect(signer.verify(signer.token(q))?.expiresAt == e)
        }
        #expect(LinkPayload.deliveryReport(key: "k", now: 100, lifetime: 60).expiresAt == 160)
    }

    @Test func linksWithoutExpiryKeepTheirEncoding() throws {
        // The bytes an unsubscribe link has always had: kind, user, campaign, then topic, key and url, and nothing
        // after them; a token signed over them (before expiries existed) still verifies, with no expiry.
        let p = LinkPayload(kind: .unsubscribe, user: "u1", campaign: "c", topic: "t")
        let bytes: [UInt8] = [UInt8(ascii: "u"), 2, UInt8(ascii: "u"), UInt8(ascii: "1"), 1, UInt8(ascii: "c"), 2, UInt8(ascii: "t"), 0, 0]
        #expect(p.encoded == bytes)
        let token = signer.token(p)
        #expect(signer.verify(token) == p)
        #expect(signer.verify(token)?.expiresAt == nil)
        #expect(LinkPayload(decoding: bytes) == p)
        // Only an upper-case kind byte announces an expiry; a missing, truncated or overlong one is refused.
        #expect(LinkPayload(decoding: bytes + [0x01]) == nil)
        let expiring = [UInt8(ascii: "U")] + bytes.dropFirst()
        #expect(LinkPayload(decoding: expiring + [0x01])?.expiresAt == 1)
        #expect(LinkPayload(decoding: expiring) == nil)
        #expect(LinkPayload(decoding: expiring + [0x80]) == nil)
        #expect(LinkPayload(decoding: expiring + [0x01, 0x00]) == nil)
        #expect(LinkPayload(decoding: expiring + Array(repeating: 0xFF, count: 9) + [0x01]) == nil)
    }
}
