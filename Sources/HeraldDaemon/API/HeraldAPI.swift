import HeraldConsole
import Hummingbird
import Logging

/// The HTTP API of `heraldd` (docs/daemon.md): ingestion, preferences, triggers and sends behind the bearer
/// token; unsubscribe, inbound SMS, delivery reports and tracking authenticated by signatures; health
/// and metrics.
public enum HeraldAPI {
    /// How long a connection may sit without sending a complete request head or body part before it is
    /// closed: a client that trickles a header byte by byte (slowloris) holds a connection this long, no more.
    public static let idleTimeout: Duration = .seconds(30)

    /// The API as a Hummingbird application (a ServiceLifecycle `Service`) listening on `api.listen`;
    /// `onServerRunning` gets the bound port (useful with port 0).
    public static func makeApplication(
        _ deps: APIDependencies, idleTimeout: Duration = HeraldAPI.idleTimeout,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(deps),
            server: .http1(
                configuration: .init(
                    idleTimeout: .nanoseconds(
                        idleTimeout.components.seconds * 1_000_000_000
                            + idleTimeout.components.attoseconds / 1_000_000_000))),
            configuration: ApplicationConfiguration(
                address: .hostname(deps.config.api.host, port: deps.config.api.port), serverName: "heraldd"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: deps.logger)
    }

    /// Every route, behind the guard middleware.
    static func makeRouter(_ deps: APIDependencies) -> Router<HeraldRequestContext> {
        let router = Router(context: HeraldRequestContext.self)
        let api = APIRoutes(deps: deps)
        router.add(middleware: APIGuardMiddleware(metrics: deps.metrics, logger: deps.logger, faults: deps.faults))

        router.get("/healthz") { _, _ in APIReply.text("ok\n") }
        router.get("/readyz") { _, _ in
            await deps.backend.isReady()
                ? APIReply.text("ready\n") : APIReply.text("not ready\n", status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            APIReply.bytesResponse(
                deps.metrics.emitToBuffer(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }

        let v1 = router.group("v1").add(middleware: BearerAuthMiddleware(token: deps.apiToken))
        v1.post("identify") { req, _ in try await api.ingest(req, shape: .identify) }
        v1.post("track") { req, _ in try await api.ingest(req, shape: .track) }
        v1.post("batch") { req, _ in try await api.ingest(req, shape: .batch) }
        v1.get("users/{id}/preferences") { req, ctx in
            try await api.preferences(req.userIDParameter(context: ctx))
        }
        v1.put("users/{id}/preferences") { req, ctx in
            try await api.setPreferences(req.userIDParameter(context: ctx), req)
        }
        v1.post("campaigns/{id}/trigger") { req, ctx in
            try await api.trigger(req.pathParameter("id", context: ctx), req)
        }
        v1.get("sends") { req, _ in try await api.sends(req) }
        v1.post("devices") { req, _ in try await api.registerDevice(req) }
        v1.delete("devices/{token}") { req, ctx in try await api.removeDevice(req.pathParameter("token", context: ctx)) }
        v1.get("journeys/{id}/users/{user}") { req, ctx in
            try await api.journeyUser(
                req.pathParameter("id", context: ctx), req.userIDParameter("user", context: ctx))
        }

        router.get("u/{token}") { req, ctx in
            try await api.unsubscribePage(req.pathParameter("token", context: ctx))
        }
        router.post("u/{token}") { req, ctx in
            try await api.unsubscribe(req.pathParameter("token", context: ctx), req)
        }
        router.post("inbound/sms") { req, _ in try await api.inboundSMS(req) }
        router.post("dlr/{provider}") { req, ctx in
            try await api.deliveryReport(req.pathParameter("provider", context: ctx), req)
        }
        // Kannel fetches its dlr-url with GET; the signed token makes that safe.
        router.get("dlr/{provider}") { req, ctx in
            try await api.deliveryReport(req.pathParameter("provider", context: ctx), req)
        }
        // The web console (docs/console.md): its own sign-in and session, behind the same guard middleware.
        if let console = deps.console { WebConsole(console).mount(on: router) }
        router.get("o/{token}") { req, ctx in try await api.open(req.pathParameter("token", context: ctx)) }
        router.get("c/{token}") { req, ctx in try await api.click(req.pathParameter("token", context: ctx)) }
        return router
    }
}

/// The handlers, over the dependencies.
struct APIRoutes: Sendable {
    /// Everything the handlers use.
    let deps: APIDependencies

    /// The logger.
    var logger: Logger { deps.logger }
}
