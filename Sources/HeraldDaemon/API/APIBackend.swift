import Foundation
import HeraldConsole
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Logging
import Prometheus

/// What the HTTP API needs from the rest of the daemon (the daemon implements it).
public protocol APIBackend: Sendable {
    /// Writes identify/track calls durably in one transaction, then runs event triggers; returns after commit.
    func ingest(users: [UserUpsert], events: [EventRecord]) async throws -> BatchResult
    /// Triggers an `api` campaign now; `occurrence` is the caller's idempotency key when given; `users` limits it to those ids.
    func trigger(campaign: String, occurrence: String?, users: [String]?) async throws -> TriggerResult
    /// True once the store is open and campaigns are loaded; false while draining.
    func isReady() async -> Bool
    /// The topics of the live config (a reload may change them); nil: those of `APIDependencies.config`.
    func declaredTopics() async -> [Topic]?
}

extension APIBackend {
    /// No live config: the API uses the topics of the config it was started with.
    public func declaredTopics() async -> [Topic]? { nil }
}

/// The outcome of `POST /v1/campaigns/{id}/trigger`.
public struct TriggerResult: Sendable, Hashable, Codable {
    /// The occurrence planned (the caller's key, or one the daemon made up).
    public var occurrence: String
    /// Ledger rows written (sends, suppressions and holdouts).
    public var decisions: Int
    /// How many of them are sends.
    public var sends: Int
    /// True when this occurrence had been planned before, so nothing new was written.
    public var alreadyPlanned: Bool

    /// JSON names.
    enum CodingKeys: String, CodingKey {
        case occurrence, decisions, sends
        case alreadyPlanned = "already_planned"
    }

    /// A result.
    public init(occurrence: String, decisions: Int, sends: Int, alreadyPlanned: Bool) {
        self.occurrence = occurrence
        self.decisions = decisions
        self.sends = sends
        self.alreadyPlanned = alreadyPlanned
    }
}

/// Why a trigger was refused.
public enum TriggerError: Error, Sendable, Hashable {
    /// No campaign has this id (404).
    case unknownCampaign(String)
    /// The campaign's trigger is not `api` (409).
    case notAPITriggered(String)
    /// The campaign is paused, ended or not yet started (409).
    case notActive(String)
}

/// Everything the HTTP API uses.
public struct APIDependencies: Sendable {
    /// The daemon configuration (listen address, public URL, SMS settings).
    public var config: HeraldConfig
    /// The audience store (preferences, phone look-ups).
    public var store: any HeraldAudience
    /// The send ledger (`/v1/sends`, tracking, delivery reports).
    public var ledger: any DispatchLedger
    /// The daemon side: ingestion, triggers, readiness.
    public var backend: any APIBackend
    /// Verifies unsubscribe, tracking and delivery-report tokens.
    public var signer: LinkSigner
    /// The bearer token for `/v1/*`; nil makes `/v1/*` answer 503.
    public var apiToken: String?
    /// Kannel's shared secret for `POST /inbound/sms`; nil refuses Kannel-shaped requests.
    public var smsInboundSecret: String?
    /// Twilio's auth token, for `X-Twilio-Signature`; nil refuses Twilio-shaped requests.
    public var twilioAuthToken: String?
    /// Where `/metrics` comes from and the request counter goes.
    public var metrics: PrometheusCollectorRegistry
    /// The API's logger.
    public var logger: Logger
    /// The clock, epoch seconds.
    public var clock: @Sendable () -> Int64
    /// Where storage faults (a full disk) are logged once per interval, shared with the daemon's loops.
    public var faults: FaultLog
    /// What the web console at `/console` reads; nil serves no console.
    public var console: ConsoleDependencies?

    /// Dependencies; `clock` defaults to the system time, `faults` to a log of the API's own.
    public init(
        config: HeraldConfig, store: any HeraldAudience, ledger: any DispatchLedger, backend: any APIBackend,
        signer: LinkSigner,
        apiToken: String?, smsInboundSecret: String?, twilioAuthToken: String?,
        metrics: PrometheusCollectorRegistry, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        faults: FaultLog? = nil, console: ConsoleDependencies? = nil
    ) {
        self.faults = faults ?? FaultLog(logger: logger, clock: { Double(clock()) })
        self.config = config
        self.store = store
        self.ledger = ledger
        self.backend = backend
        self.signer = signer
        self.apiToken = apiToken
        self.smsInboundSecret = smsInboundSecret
        self.twilioAuthToken = twilioAuthToken
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.console = console
    }
}
