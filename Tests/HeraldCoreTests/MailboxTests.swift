@testable import HeraldCore
import Testing

@Suite struct MailboxTests {
    @Test(arguments: [
        "ann@example.org", "a.b+tag@mail.shop.example", "x@a-b.c", "o'brien@example.ie", "{top}~#=@x.y", "1@2.3",
    ])
    func acceptsAddrSpecs(_ address: String) {
        #expect(Mailbox(parsing: address)?.address == address)
        #expect(Mailbox(parsing: "Ann Lee <\(address)>")?.address == address)
    }

    @Test(arguments: [
        "", "ann", "@example.org", "ann@", "ann@localhost", "ann@@example.org", "a@b@example.org", ".ann@example.org",
        "ann.@example.org", "an..n@example.org", "ann@-x.org", "ann@x-.org", "ann@x..org", "ann@.x.org", "ann@x.org.",
        "an n@example.org", "ann@exa mple.org", "zoë@example.org", "ann@exämple.org", "ann@x_y.org", "a\"b@x.org",
        "ann@example.org\r\nBcc: eve@evil.example", "ann(x)@example.org",
    ])
    func refusesOthers(_ address: String) {
        #expect(Mailbox(parsing: address) == nil)
    }

    /// The definition the byte-based check replaced, over Unicode scalars.
    static func reference(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].unicodeScalars.contains(".") else { return false }
        let atext = "!#$%&'*+-/=?^_`{|}~."
        let localOK = parts[0].unicodeScalars.allSatisfy {
            ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || atext.unicodeScalars.contains($0)
        }
        let domainOK = parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || $0 == "-" }
        }
        let local = Array(parts[0].unicodeScalars)
        let doubled = zip(local, local.dropFirst()).contains { $0 == "." && $1 == "." }
        return localOK && domainOK && !parts[0].hasPrefix(".") && !parts[0].hasSuffix(".") && !doubled
    }

    @Test func agreesWithTheScalarDefinitionOnRandomStrings() {
        let alphabet: [Character] = ["a", "Z", "0", "9", ".", ".", "@", "@", "-", "+", "_", "~", " ", "\"", "(", "é", "ß", "<"]
        var rng = SeededRNG(state: 0x4D41_494C)
        for _ in 0..<20_000 {
            let text = String((0..<rng.int(10)).map { _ in rng.pick(alphabet) })
            #expect(Mailbox.isAddrSpec(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }
}

