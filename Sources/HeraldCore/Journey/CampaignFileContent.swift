import Yams

/// What a file of the campaigns folder holds: a campaign (`message:`) or a journey (`steps:`).
public enum CampaignFileContent: Sendable {
    /// A one-message campaign (docs/campaigns.md).
    case campaign(Campaign)
    /// A multi-step journey (docs/journeys.md).
    case journey(JourneyDefinition)

    /// The id; campaign and journey ids share one namespace.
    public var id: String {
        switch self {
        case .campaign(let c): c.id
        case .journey(let j): j.id
        }
    }

    /// The file's path.
    public var file: String {
        switch self {
        case .campaign(let c): c.file
        case .journey(let j): j.file
        }
    }
}

extension CampaignFile {
    /// The campaign of `result`; a journey becomes an error for callers that read campaigns only.
    static func campaignOnly(_ result: (CampaignFileContent?, [Diagnostic]), file: String) -> (
        Campaign?, [Diagnostic]
    ) {
        switch result.0 {
        case .campaign(let c)?: return (c, result.1)
        case .journey?:
            let d = Diagnostic(
                at: nil, "'\(file)' is a journey (it has steps:), not a single-message campaign")
            return (nil, result.1 + [d])
        case nil: return (nil, result.1)
        }
    }
}

extension CampaignParser {
    /// True when the file's top level has a `steps` key: it is a journey.
    static func isJourney(_ root: Node) -> Bool {
        guard case .mapping(let m) = root else { return false }
        return m.contains { $0.key.scalar?.string == "steps" }
    }
}
