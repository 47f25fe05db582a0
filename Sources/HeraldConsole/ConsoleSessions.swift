import Crypto
import Foundation
import HeraldDelivery
import Synchronization

/// One signed-in browser: its CSRF token and when it expires.
public struct ConsoleSession: Sendable, Hashable {
    /// The token every POST must carry in the form field `csrf` (docs/console.md, "Sessions").
    public let csrf: String
    /// Epoch seconds after which the session is gone.
    public let expiresAt: Int64
}

/// The console's sessions, in memory: a random id per sign-in (the cookie), kept under the SHA-256 of that id
/// so that neither a lookup's timing nor a memory dump gives an id away. A restart signs everyone out.
public final class ConsoleSessions: Sendable {
    /// How long a session lasts after sign-in.
    public static let lifetime: Int64 = 12 * 3600
    /// Sessions kept at most; signing in beyond it drops the one closest to expiry.
    static let capacity = 1000

    private let sessions = Mutex<[String: ConsoleSession]>([:])

    /// No sessions.
    public init() {}

    /// Starts a session at `now`; returns the cookie value (the id) and the session.
    public func create(now: Int64) -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(csrf: Self.randomToken(), expiresAt: now + Self.lifetime)
        sessions.withLock { all in
            all = all.filter { $0.value.expiresAt > now }
            if all.count >= Self.capacity, let oldest = all.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                all[oldest.key] = nil
            }
            all[Self.digest(id)] = session
        }
        return (id, session)
    }

    /// The live session with cookie value `id` at `now`, or nil (an expired one is dropped).
    public func session(_ id: String, now: Int64) -> ConsoleSession? {
        let key = Self.digest(id)
        return sessions.withLock { all in
            guard let s = all[key] else { return nil }
            guard s.expiresAt > now else {
                all[key] = nil
                return nil
            }
            return s
        }
    }

    /// Ends the session with cookie value `id` (sign-out).
    public func remove(_ id: String) {
        let key = Self.digest(id)
        _ = sessions.withLock { $0.removeValue(forKey: key) }
    }

    /// True when `given` is the session's CSRF token (constant time).
    public static func csrfMatches(_ given: String?, _ session: ConsoleSession) -> Bool {
        guard let given else { return false }
        return ConstantTime.equal(given, session.csrf)
    }

    /// 32 random bytes as 64 hex digits.
    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
    }

    /// The dictionary key of a session id.
    static func digest(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
