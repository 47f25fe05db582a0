import Foundation

/// An immutable, validated snapshot of the config and its campaigns (docs/architecture.md): a reload builds a new
/// one and swaps it in whole; a failed reload changes nothing.
public struct CampaignBook: Sendable {
    /// The config file's path.
    public let configPath: String
    /// The config.
    public let config: HeraldConfig
    /// Every valid campaign, active or not.
    public let campaigns: [Campaign]
    /// Every valid journey, whatever its status (docs/journeys.md).
    public let journeys: [JourneyDefinition]

    /// A book.
    public init(configPath: String, config: HeraldConfig, campaigns: [Campaign], journeys: [JourneyDefinition] = []) {
        self.configPath = configPath
        self.config = config
        self.campaigns = campaigns
        self.journeys = journeys
    }

    /// The journey with this id.
    public func journey(_ id: String) -> JourneyDefinition? { journeys.first { $0.id == id } }

    /// The campaigns with `status: active`.
    public var active: [Campaign] { campaigns.filter { $0.status == .active } }

    /// The campaign with this id.
    public func campaign(_ id: String) -> Campaign? { campaigns.first { $0.id == id } }

    /// Loads and validates the config at `path` and every campaign file; any error anywhere fails the whole
    /// load with every diagnostic (FILE:LINE:COL), so a broken file on disk never half-replaces a live set.
    public static func load(path: String, environment: [String: String]) -> Result<CampaignBook, LoadFailure> {
        let (loaded, diagnostics) = HeraldConfig.load(path: path, environment: environment)
        guard let config = loaded, !diagnostics.hasErrors else {
            return .failure(LoadFailure(diagnostics: diagnostics.filter(\.isError)))
        }
        let (campaigns, journeys, campaignDiagnostics) = CampaignSet.loadAll(
            directory: config.campaignsDirectory, config: config)
        if campaignDiagnostics.hasErrors {
            return .failure(LoadFailure(diagnostics: campaignDiagnostics.filter(\.isError)))
        }
        return .success(CampaignBook(configPath: path, config: config, campaigns: campaigns, journeys: journeys))
    }

    /// Why a load failed: every error diagnostic.
    public struct LoadFailure: Error, Sendable {
        /// The errors, each `FILE:LINE:COL: error: …`.
        public var diagnostics: [Diagnostic]
    }
}

/// The live book, swapped atomically on reload.
public final class LiveBook: Sendable {
    private let state: LockedState<CampaignBook>

    /// Starts with `book`.
    public init(_ book: CampaignBook) { state = LockedState(book) }

    /// The current book.
    public var current: CampaignBook { state.withLock { $0 } }

    /// Replaces the book.
    public func swap(_ book: CampaignBook) { state.withLock { $0 = book } }
}
