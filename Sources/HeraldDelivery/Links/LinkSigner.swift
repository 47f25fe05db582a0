import Crypto
import Foundation
import HeraldCore

/// Signs and verifies the tokens in unsubscribe, tracking and delivery-report links.
///
/// A token is `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`, without
/// padding, so it is safe in a URL path or query as it is. Unsubscribe, open and click tokens do not
/// expire: they must keep working for as long as the message sits in someone's mailbox. Delivery-report
/// tokens carry `LinkPayload.expiresAt`, which the API enforces (docs/ledger.md).
public struct LinkSigner: Sendable {
    /// The HMAC key bytes (kept as bytes: `SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]

    /// A signer with these key bytes.
    public init(key: [UInt8]) {
        keyBytes = key
    }

    /// The HMAC key.
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The signed, URL-safe token for `p`.
    public func token(_ p: LinkPayload) -> String {
        let body = Base64URL.encode(p.encoded)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: key)
        return body + "." + Base64URL.encode(Array(mac))
    }

    /// The public URL of a signed link under `base` (`api.public_url`, no trailing slash):
    /// `/u/{token}`, `/o/{token}`, `/c/{token}`; a delivery report is `/dlr/{provider}?t={token}`, and
    /// for Kannel also `&status=%d`, which Kannel fills in.
    public func url(_ p: LinkPayload, base: String, provider: String = "kannel") -> String {
        let t = token(p)
        switch p.kind {
        case .unsubscribe, .open, .click: return "\(base)/\(p.kind.rawValue)/\(t)"
        case .dlr: return "\(base)/dlr/\(provider)?t=\(t)" + (provider == "kannel" ? "&status=%d" : "")
        }
    }

    /// The payload of a genuine token; nil for a forgery, a truncated or garbled token or an unknown kind.
    public func verify(_ token: String) -> LinkPayload? {
        // Longer than any real token, and bounded so a hostile path costs nothing to reject.
        guard token.utf8.count <= 8192 else { return nil }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(parts[1]), mac.count == SHA256.byteCount else {
            return nil
        }
        // Constant time in the MAC bytes (swift-crypto compares without an early exit).
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(parts[0]), using: key),
            let payload = Base64URL.decode(parts[0])
        else { return nil }
        return LinkPayload(decoding: payload)
    }

    /// The smallest accepted key, bytes.
    public static let minimumKeyBytes = 32

    /// The signing key: `api.signing_key_file` when set (at least 32 bytes), else `signing.key` in the
    /// SQLite store's directory, created with 32 random bytes and mode 0600 when absent.
    public static func loadKey(config: HeraldConfig) throws -> [UInt8] {
        if let file = config.api.signingKeyFile {
            return try readKey(file, setting: "api.signing_key_file")
        }
        guard case .sqlite(let dbPath) = config.store else {
            throw LinkKeyError(
                "api.signing_key_file is required with a PostgreSQL store: every daemon must sign links with the same key"
            )
        }
        let path = (dbPath as NSString).deletingLastPathComponent + "/signing.key"
        if FileManager.default.fileExists(atPath: path) { return try readKey(path, setting: "signing.key") }
        return try createKey(at: path)
    }

    /// The bytes of an existing key file, at least `minimumKeyBytes` long.
    private static func readKey(_ path: String, setting: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LinkKeyError("\(setting): cannot read the link-signing key file \(path)")
        }
        guard data.count >= minimumKeyBytes else {
            throw LinkKeyError(
                "\(setting): the link-signing key in \(path) is \(data.count) bytes; it needs at least \(minimumKeyBytes) "
                    + "(e.g. head -c 32 /dev/urandom > \(path))")
        }
        return Array(data)
    }

    /// Writes a new random key with mode 0600; if another process won the race, reads theirs.
    private static func createKey(at path: String) throws -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<minimumKeyBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return try readKey(path, setting: "signing.key") }
            throw LinkKeyError(
                "cannot create the link-signing key \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw LinkKeyError(
                "cannot write the link-signing key \(path): \(String(cString: strerror(errno)))")
        }
        return bytes
    }
}

/// The link-signing key could not be loaded or created; the message says where and what to do.
public struct LinkKeyError: Error, Sendable, CustomStringConvertible {
    /// What went wrong (never the key).
    public var description: String

    /// An error with this message.
    init(_ description: String) { self.description = description }
}

/// Unpadded base64url (RFC 4648 §5).
enum Base64URL {
    /// The encoding of `bytes`, without `=` padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        while s.last == "=" { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// The bytes of canonical unpadded base64url text; nil when any character is outside the alphabet
    /// or the unused low bits of the last character are set (so each byte string has exactly one token).
    static func decode<S: Collection<UInt8>>(_ text: S) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var chars: [UInt8] = []
        chars.reserveCapacity(text.count + 2)
        for c in text {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                chars.append(c)
            case UInt8(ascii: "-"): chars.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): chars.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        while chars.count % 4 != 0 { chars.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(chars)) else { return nil }
        let bytes = Array(data)
        return encode(bytes).utf8.elementsEqual(text) ? bytes : nil
    }
}

extension LinkSigner: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the key.
    public var description: String { "LinkSigner(key: \(keyBytes.count) bytes)" }
    /// The same as `description`, so `String(reflecting:)` cannot leak the key either.
    public var debugDescription: String { description }
}
