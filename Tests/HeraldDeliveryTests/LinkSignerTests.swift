import Foundation
import HeraldCore
import Testing

@testable import HeraldDelivery

@Suite struct LinkSignerTests {
    let signer = LinkSigner(key: Array(repeating: 7, count: 32))

    /// A payload of each kind with awkward text: separators, non-ASCII, empty strings.
    static let payloads: [LinkPayload] = [
        LinkPayload(kind: .unsubscribe, user: "u1", campaign: "winback", topic: "promotions"),
        LinkPayload(kind: .unsubscribe, user: "用户.7", campaign: "c", topic: nil),
        LinkPayload(kind: .open, user: "u|2", campaign: "c", key: "c/occ/u|2/0"),
        LinkPayload(
            kind: .click, user: "u3", campaign: "c", key: "k", url: "https://shop.example/a?b=1&c=%20#x"),
        LinkPayload(kind: .dlr, user: "", campaign: "", topic: "", key: "", url: ""),
    ]

    @Test(arguments: payloads) func roundTripsEveryKind(_ p: LinkPayload) {
        let token = signer.token(p)
        #expect(signer.verify(token) == p)
    }

    @Test(arguments: payloads) func tokensUseOnlyTheURLSafeAlphabet(_ p: LinkPayload) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
        #expect(signer.token(p).allSatisfy { allowed.contains($0) })
    }

    @Test func tamperedPayloadOrMACIsRejected() {
        let token = signer.token(Self.payloads[0])
        let dot = token.firstIndex(of: ".")!
        var chars = Array(token)
        let positions = [
            0, token.distance(from: token.startIndex, to: dot) - 1,
            token.distance(from: token.startIndex, to: dot) + 1, chars.count - 1,
        ]
        for i in positions {
            let original = chars[i]
            for replacement in ["A", "B", "-", "_"] where Character(replacement) != original {
                chars[i] = Character(replacement)
                #expect(signer.verify(String(chars)) == nil, "position \(i) → \(replacement)")
            }
            chars[i] = original
        }
    }

    @Test func truncatedAndGarbledTokensAreRejected() {
        let token = signer.token(Self.payloads[3])
        for n in [0, 1, 10, token.count / 2, token.count - 1] {
            #expect(signer.verify(String(token.prefix(n))) == nil)
        }
        for bad in [
            "", ".", "..", "a.b", token + ".", token + "=", token.replacingOccurrences(of: ".", with: ""),
            "%2e%2e", "\u{0}", String(repeating: "A", count: 20_000),
        ] {
            #expect(signer.verify(bad) == nil)
        }
    }

    @Test func unknownKindBytesAndTrailingOrShortFieldsDoNotDecode() {
        let good = LinkPayload(kind: .click, user: "u", campaign: "c", url: "https://x.example").encoded
        #expect(LinkPayload(decoding: good) != nil)
        var unknownKind = good
        unknownKind[0] = UInt8(ascii: "x")
        #expect(LinkPayload(decoding: unknownKind) == nil)
        #expect(LinkPayload(decoding: good + [0]) == nil)
        #expect(LinkPayload(decoding: Array(good.dropLast())) == nil)
        #expect(LinkPayload(decoding: [UInt8(ascii: "u"), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        // A user id of two bytes that are not UTF-8.
        #expect(LinkPayload(decoding: [UInt8(ascii: "u"), 2, 0xC3, 0x28, 0, 0, 0, 0]) == nil)
    }

    @Test func aDifferentKeyIsRejected() {
        let token = signer.token(Self.payloads[1])
        #expect(LinkSigner(key: Array(repeating: 8, count: 32)).verify(token) == nil)
    }

    @Test func urlsPutTheTokenWhereTheAPIExpectsIt() {
        let base = "https://h.example"
        let u = signer.url(Self.payloads[0], base: base)
        #expect(u == base + "/u/" + signer.token(Self.payloads[0]))
        let dlr = LinkPayload(kind: .dlr, user: "u", campaign: "c", key: "k")
        #expect(signer.url(dlr, base: base) == base + "/dlr/kannel?t=" + signer.token(dlr) + "&status=%d")
        #expect(
            signer.url(dlr, base: base, provider: "twilio") == base + "/dlr/twilio?t=" + signer.token(dlr))
    }

    @Test func descriptionHidesTheKey() {
        #expect(String(describing: signer) == "LinkSigner(key: 32 bytes)")
        #expect(String(reflecting: signer) == "LinkSigner(key: 32 bytes)")
    }

    @Test func loadKeyCreatesAPrivateKeyBesideTheStoreOnceAndReusesIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.config("store: { sqlite: h.db }\n", in: dir)
        let first = try LinkSigner.loadKey(config: config)
        #expect(first.count == 32)
        let path = dir.appendingPathComponent("signing.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try LinkSigner.loadKey(config: config) == first)
    }

    @Test func loadKeyReadsTheConfiguredFileAndRefusesAShortOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("link.key")
        try Data(repeating: 0x41, count: 40).write(to: keyFile)
        let config = try Self.config(
            "store: { sqlite: h.db }\napi: { signing_key_file: link.key }\n", in: dir)
        #expect(try LinkSigner.loadKey(config: config) == Array(repeating: 0x41, count: 40))
        try Data(repeating: 0x41, count: 31).write(to: keyFile)
        #expect(throws: LinkKeyError.self) { try LinkSigner.loadKey(config: config) }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("signing.key").path))
    }

    /// Parses a herald.yaml text against `dir`.
    static func config(_ yaml: String, in dir: URL) throws -> HeraldConfig {
        let (config, diagnostics) = HeraldConfig.parse(
            yaml: yaml, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        return try #require(config, "\(diagnostics)")
    }
}

@Suite struct LinkRewriterTests {
    @Test func rewritesWebLinksOnly() {
        let html = """
            <p><a href="https://shop.example/a?x=1&amp;y=2">A</a> <a class="b" HREF='http://shop.example/b'>B</a>
            <a href="mailto:help@shop.example">mail</a> <a href="tel:+15550001111">call</a> <a href="#top">top</a>
            <a href="https://herald.example/u/TOKEN">unsubscribe</a> <a data-href="https://x.example">x</a></p>
            """
        var seen: [String] = []
        let out = LinkRewriter.rewriteLinks(html: html, keeping: ["https://herald.example/u/TOKEN"]) { url in
            seen.append(url)
            return "https://herald.example/c/\(seen.count)?n=\(seen.count)&z"
        }
        #expect(seen == ["https://shop.example/a?x=1&y=2", "http://shop.example/b"])
        #expect(out.contains(#"<a href="https://herald.example/c/1?n=1&amp;z">A</a>"#))
        #expect(out.contains(#"HREF='https://herald.example/c/2?n=2&amp;z'>B</a>"#))
        #expect(
            out.contains(#"href="mailto:help@shop.example""#) && out.contains(#"href="tel:+15550001111""#))
        #expect(out.contains(##"href="#top""##) && out.contains(#"href="https://herald.example/u/TOKEN""#))
        #expect(out.contains(#"data-href="https://x.example""#))
    }

    @Test func leavesBrokenMarkupAndNonASCIIIntact() {
        let html = #"<p>价格 <a href="https://shop.example/价格">链接</a> <a href="https://unterminated"#
        let out = LinkRewriter.rewriteLinks(html: html) { _ in "T" }
        #expect(out.hasPrefix(#"<p>价格 <a href="T">链接</a> "#))
        #expect(out.hasSuffix(#"<a href="https://unterminated"#))
    }

    @Test func openPixelIsAnEscapedImage() {
        let tag = LinkRewriter.openPixel("https://h.example/o/a\"b")
        #expect(
            tag
                == #"<img src="https://h.example/o/a&quot;b" width="1" height="1" alt="" style="display:none;border:0">"#
        )
        let page = LinkRewriter.addingOpenPixel(
            html: "<html><body><p>x</p></BODY></html>", url: "https://h.example/o/t")
        #expect(
            page.hasSuffix(
                #"<img src="https://h.example/o/t" width="1" height="1" alt="" style="display:none;border:0"></BODY></html>"#
            ))
        #expect(LinkRewriter.addingOpenPixel(html: "plain", url: "u").hasPrefix("plain<img"))
    }
}
