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
    /// The operators' switches laid over the files (`applying(_:)`); empty for a book just loaded.
    public let controls: CampaignControls

    /// A book.
    public init(configPath: String, config: HeraldConfig, campaigns: [Campaign], journeys: [JourneyDefinition] = [],
                controls: CampaignControls = CampaignControls()) {
        self.controls = controls
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
    /// The book as loaded, the controls, and the two combined.
    private let state: LockedState<(loaded: CampaignBook, current: CampaignBook)>

    /// Starts with `book`.
    public init(_ book: CampaignBook) { state = LockedState((book, book.applying(book.controls))) }

    /// The current book: the loaded one with the store's controls laid over it.
    public var current: CampaignBook { state.withLock { $0.current } }

    /// Replaces the book (a reload); the controls in force stay.
    public func swap(_ book: CampaignBook) {
        state.withLock { $0 = (book, book.applying($0.current.controls)) }
    }

    /// Lays `controls` (read from the store) over the loaded book; true when anything changed.
    @discardableResult
    public func setControls(_ controls: CampaignControls) -> Bool {
        state.withLock { s in
            guard s.current.controls != controls else { return false }
            s.current = s.loaded.applying(controls)
            return true
        }
    }
}
