import Hummingbird

/// The request context of heraldd's router: Hummingbird's core context, the peer's address (the console
/// limits failed sign-ins per address) and the console session a request was admitted with.
public struct HeraldRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address as text; nil for a Unix socket or an unknown peer.
    public let remoteHost: String?
    /// The console session, set by the console's session check for the routes behind it.
    public var session: ConsoleSession?

    /// A context for one request on `source`'s connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteHost = source.channel.remoteAddress?.ipAddress
        session = nil
    }
}
