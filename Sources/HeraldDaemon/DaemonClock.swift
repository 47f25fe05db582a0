import Foundation
import HeraldCore

/// The daemon's clock (docs/architecture.md): everything that reads the time takes one, so tests run instantly.
public struct DaemonClock: Sendable {
    /// Now, epoch seconds with a fraction.
    public var now: @Sendable () -> Double

    /// A clock reading `now`.
    public init(now: @escaping @Sendable () -> Double) { self.now = now }

    /// The system's wall clock.
    public static let system = DaemonClock { Date().timeIntervalSince1970 }

    /// Now, whole epoch seconds.
    public var seconds: Int64 { Int64(now().rounded(.down)) }
}
