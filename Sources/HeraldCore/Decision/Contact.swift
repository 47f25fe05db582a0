/// Address checks for the contact step (docs/decisions.md): E.164 phone numbers and RFC 5322 addr-spec emails.
public enum ContactValidator {
    /// True for `+` followed by 8–15 digits whose first digit (the country code) is not 0.
    public static func isE164(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 9, u.count <= 16, u[0] == UInt8(ascii: "+"), u[1] != UInt8(ascii: "0") else {
            return false
        }
        return u.dropFirst().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// True for a practical RFC 5322 addr-spec: a dot-atom or quoted local part, `@`, and a domain
    /// of dot-separated labels (at least one dot) or an IP literal `[…]`. No spaces, CR or LF outside quotes.
    public static func isEmail(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count <= 254, let at = u.lastIndex(of: UInt8(ascii: "@")), at > 0, at < u.count - 1 else {
            return false
        }
        let local = u[..<at]
        let domain = u[(at + 1)...]
        return local.count <= 64 && isLocalPart(Array(local)) && isDomain(Array(domain))
    }

    /// atext of RFC 5322 §3.2.3.
    static func isAtext(_ c: UInt8) -> Bool {
        if (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) { return true }
        return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(c)
    }

    static func isLocalPart(_ p: [UInt8]) -> Bool {
        if p.first == UInt8(ascii: "\""), p.count >= 2, p.last == UInt8(ascii: "\"") {
            // quoted-string: printable ASCII and spaces, with backslash escapes; never CR or LF.
            var i = 1
            while i < p.count - 1 {
                let c = p[i]
                if c == 0x0D || c == 0x0A || c < 0x20 || c > 0x7E { return false }
                if c == UInt8(ascii: "\\") {
                    i += 1
                    if i >= p.count - 1 { return false }
                } else if c == UInt8(ascii: "\"") {
                    return false
                }
                i += 1
            }
            return true
        }
        return isDotAtom(p)
    }

    static func isDotAtom(_ p: [UInt8]) -> Bool {
        guard !p.isEmpty, p.first != UInt8(ascii: "."), p.last != UInt8(ascii: ".") else { return false }
        var previousDot = false
        for c in p {
            if c == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isAtext(c) else { return false }
                previousDot = false
            }
        }
        return true
    }

    static func isDomain(_ d: [UInt8]) -> Bool {
        if d.first == UInt8(ascii: "["), d.last == UInt8(ascii: "]") {
            let inner = d.dropFirst().dropLast()
            return !inner.isEmpty
                && inner.allSatisfy {
                    ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")
                        || isAtext($0)
                }
        }
        guard d.count <= 253, d.contains(UInt8(ascii: ".")) else { return false }
        for label in d.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"),
                label.last != UInt8(ascii: "-")
            else {
                return false
            }
            for c in label
            where
                !((c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == UInt8(ascii: "-"))
            {
                return false
            }
        }
        return true
    }

    /// Masks an address for display: `j***@example.com`, `+4915******67`.
    public static func mask(_ address: String) -> String {
        if let at = address.lastIndex(of: "@") {
            let local = address[..<at]
            return "\(local.prefix(1))***\(address[at...])"
        }
        guard address.count > 6 else { return String(repeating: "*", count: address.count) }
        return "\(address.prefix(5))\(String(repeating: "*", count: address.count - 7))\(address.suffix(2))"
    }
}
