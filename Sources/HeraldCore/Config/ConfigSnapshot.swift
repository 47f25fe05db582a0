import Foundation

/// Reads the content of a `*_file` secret; errors name the field and path, never the content.
public enum SecretFile {
    /// Why a secret could not be read.
    public struct Failure: Error, Sendable, Hashable {
        /// The problem, naming the field and path.
        public var diagnostic: Diagnostic
    }

    /// The file's content without trailing newlines, or a failure naming `field`.
    public static func read(_ path: String, field: String) -> Result<String, Failure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): cannot read '\(path)'")))
        }
        guard var text = String(data: data, encoding: .utf8) else {
            return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): '\(path)' is not UTF-8 text")))
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): '\(path)' is empty"))) }
        return .success(text)
    }
}

/// A validated config together with its campaigns: what the daemon runs on, swapped whole on reload.
public struct ConfigSnapshot: Sendable {
    /// The daemon configuration.
    public let config: HeraldConfig
    /// The valid campaigns, in file-name order.
    public let campaigns: [Campaign]

    /// A snapshot from validated parts.
    public init(config: HeraldConfig, campaigns: [Campaign]) {
        self.config = config
        self.campaigns = campaigns
    }

    /// The campaign with `id`, if any.
    public func campaign(_ id: String) -> Campaign? { campaigns.first { $0.id == id } }

    /// Loads the config at `path` and its campaigns folder; nil when any file has an error.
    public static func load(path: String, environment: [String: String]) -> (ConfigSnapshot?, [Diagnostic]) {
        let (config, configDiagnostics) = HeraldConfig.load(path: path, environment: environment)
        guard let config else { return (nil, configDiagnostics) }
        let (campaigns, diagnostics) = CampaignSet.load(directory: config.campaignsDirectory, config: config)
        let all = configDiagnostics + diagnostics
        return (all.hasErrors ? nil : ConfigSnapshot(config: config, campaigns: campaigns), all)
    }
}

/// Holds the current snapshot; a reload validates a new one and swaps it in atomically,
/// and a failed reload changes nothing (DESIGN decision 8).
public final class ConfigHolder: Sendable {
    private let state: LockedState<ConfigSnapshot>

    /// A holder starting with `initial`.
    public init(_ initial: ConfigSnapshot) { state = LockedState(initial) }

    /// The snapshot in force.
    public var current: ConfigSnapshot { state.withLock { $0 } }

    /// Re-reads `path`; swaps only when everything validates. Returns the diagnostics either way.
    @discardableResult
    public func reload(path: String, environment: [String: String]) -> (swapped: Bool, diagnostics: [Diagnostic]) {
        let (snapshot, diagnostics) = ConfigSnapshot.load(path: path, environment: environment)
        guard let snapshot else { return (false, diagnostics) }
        state.withLock { $0 = snapshot }
        return (true, diagnostics)
    }
}
