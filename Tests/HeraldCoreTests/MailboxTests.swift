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
        var generator = SplitMix(seed: 0x4D41_494C)
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(Mailbox.isAddrSpec(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }
}

/// A seeded generator, so a failing string comes back on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
