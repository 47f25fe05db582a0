import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Logging
import Prometheus
import ServiceLifecycle
import Testing

/// A test backend over the real store: ingestion writes users then events; triggers are recorded.
actor RecordingBackend: APIBackend {
    /// The store written to.
    let store: SQLiteStore
    /// Every trigger call, in order.
    private(set) var triggers: [(campaign: String, occurrence: String?, users: [String]?)] = []
    /// What `isReady` answers.
    var ready = true

    /// A backend over `store`.
    init(store: SQLiteStore) { self.store = store }

    /// Upserts then inserts.
    func ingest(users: [UserUpsert], events: [EventRecord]) async throws -> BatchResult {
        var result = BatchResult()
        if !users.isEmpty { result = result + (try await store.upsertUsers(users)) }
        if !events.isEmpty { result = result + (try await store.insertEvents(events)) }
        return result
    }

    /// Knows `promo` (api-triggered), `weekly` (scheduled) and `paused` (inactive).
    func trigger(campaign: String, occurrence: String?, users: [String]?) async throws -> TriggerResult {
        switch campaign {
        case "promo":
            triggers.append((campaign, occurrence, users))
            return TriggerResult(
                occurrence: occurrence ?? "generated", decisions: 2, sends: 1, alreadyPlanned: false)
        case "weekly": throw TriggerError.notAPITriggered(campaign)
        case "paused": throw TriggerError.notActive(campaign)
        default: throw TriggerError.unknownCampaign(campaign)
        }
    }

    /// The `ready` flag.
    func isReady() async -> Bool { ready }

    /// Sets the `ready` flag.
    func setReady(_ value: Bool) { ready = value }
}

/// A running API on 127.0.0.1 with a real store in a temporary directory, and a curl engine to call it.
struct APIHarness {
    /// The store.
    let store: SQLiteStore
    /// The ledger.
    let ledger: SQLiteLedger
    /// The backend.
    let backend: RecordingBackend
    /// The link signer the server verifies with.
    let signer: LinkSigner
    /// `http://127.0.0.1:PORT`.
    let base: String
    /// The client.
    let engine: CurlEngine

    /// The bearer token.
    static let token = "test-token-0123456789"
    /// The Kannel inbound secret.
    static let smsSecret = "kannel-secret"
    /// The Twilio auth token.
    static let twilioToken = "12345"
    /// The public URL Twilio signatures are computed over.
    static let publicURL = "https://herald.example.com"

    /// Starts the API, runs `body`, stops the API.
    static func run(
        apiToken: String? = token, logger given: Logger? = nil, idleTimeout: Duration = HeraldAPI.idleTimeout,
        _ body: (APIHarness) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.config(dir)
        let store = try SQLiteStore(path: dir.appendingPathComponent("h.db").path, schema: config.attributes)
        let ledger = try SQLiteLedger(pool: store.pool)
        let backend = RecordingBackend(store: store)
        let signer = LinkSigner(key: try LinkSigner.loadKey(config: config))
        var logger = given ?? Logger(label: "herald.api.test")
        if given == nil { logger.logLevel = .warning }
        let deps = APIDependencies(
            config: config, store: store, ledger: ledger, backend: backend, signer: signer,
            apiToken: apiToken,
            smsInboundSecret: smsSecret, twilioAuthToken: twilioToken, metrics: PrometheusCollectorRegistry(),
            logger: logger, clock: { 1_767_225_600 })
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = HeraldAPI.makeApplication(
            deps, idleTimeout: idleTimeout, onServerRunning: { continuation.yield($0) })
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let harness = APIHarness(
                store: store, ledger: ledger, backend: backend, signer: signer,
                base: "http://127.0.0.1:\(port)",
                engine: engine)
            do {
                try await body(harness)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// A config on `dir` with two declared attributes, listening on any free port.
    static func config(_ dir: URL) throws -> HeraldConfig {
        let yaml = """
            store: { sqlite: h.db }
            api: { public_url: \(publicURL) }
            attributes: { plan: string, avg_order_value: number }
            topics: [promotions]
            channels:
              sms: { provider: kannel, help_reply: "Shop: reply STOP to opt out. Help at shop.example" }
            """
        let (parsed, diagnostics) = HeraldConfig.parse(
            yaml: yaml, file: "herald.yaml", baseDirectory: dir.path, environment: [:])
        let c = try #require(parsed, "\(diagnostics)")
        var api = c.api
        api.port = 0
        return HeraldConfig(
            file: c.file, baseDirectory: c.baseDirectory, store: c.store,
            campaignsDirectory: c.campaignsDirectory,
            templatesDirectory: c.templatesDirectory, api: api, lifecycle: c.lifecycle,
            attributes: c.attributes,
            segments: c.segments, catalog: c.catalog, policy: c.policy, channels: c.channels, topics: c.topics)
    }

    /// Sends a request to `path` (which may carry a query).
    func send(
        _ method: HTTPRequest.Method, _ path: String, body: [UInt8] = [], headers: [HeaderField] = [],
        auth: Bool = true
    ) async throws -> HTTPResponse {
        var all = headers
        if auth { all.append(HeaderField("Authorization", "Bearer \(Self.token)")) }
        // A generous limit: on a loaded 2-core machine the suite's CLI tests hold both threads of the concurrency
        // pool while their `herald` children run, and the in-process server waits for one.
        return try await engine.send(
            HTTPRequest(method: method, url: base + path, headers: all, body: body, timeout: .seconds(90)))
    }

    /// POSTs a JSON text.
    func postJSON(_ path: String, _ json: String, auth: Bool = true) async throws -> HTTPResponse {
        try await send(
            .post, path, body: Array(json.utf8), headers: [HeaderField("Content-Type", "application/json")],
            auth: auth)
    }

    /// POSTs form fields.
    func postForm(_ path: String, _ fields: [(String, String)], headers: [HeaderField] = []) async throws
        -> HTTPResponse
    {
        let body = fields.map { "\(Self.formEscape($0.0))=\(Self.formEscape($0.1))" }.joined(separator: "&")
        return try await send(
            .post, path, body: Array(body.utf8),
            headers: [HeaderField("Content-Type", "application/x-www-form-urlencoded")] + headers, auth: false
        )
    }

    /// Form-encodes one component.
    static func formEscape(_ s: String) -> String {
        let allowed = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*")
        return (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(
            of: "%20", with: "+")
    }

    /// Users and events in the store.
    func counts() async throws -> (users: Int, events: Int) { try await store.counts() }

    /// The JSON object of a response.
    static func object(_ r: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any], "\(r.text)")
    }
}
