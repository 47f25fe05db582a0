/// A validated journey file (docs/journeys.md): a campaign file with `steps:` instead of `message:`.
public struct JourneyDefinition: Sendable {
    /// `active`, `paused` (timers hold), `draft` or `stopped` (every instance ends).
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active, paused, draft, stopped
    }

    /// `entry.re_entry`: whether a user who has been in the journey may enter it again.
    public enum ReEntry: Sendable, Hashable {
        /// Once per user, ever.
        case never
        /// Whenever the trigger fires and the user is in no instance.
        case always
        /// Again once this many seconds have passed since the user's previous instance started.
        case after(Int64)
    }

    /// One `exit_when` condition.
    public enum ExitCondition: Sendable {
        /// The instance ends the moment such an event is stored (status `exited:<event>`).
        case event(String)
        /// The instance ends when the user matches this on reaching a step (status `exited:segment`).
        case segment(CompiledSegment)
    }

    /// The stable id (`[a-z0-9][a-z0-9-]*`), shared with campaigns: ids are unique across both.
    public let id: String
    /// A human name.
    public let name: String
    /// Whether it runs.
    public var status: Status
    /// The subscription topic, if any.
    public let topic: String?
    /// Higher wins when caps leave room for one campaign.
    public let priority: Int
    /// Exempt from caps, topics and quiet hours (never from channel opt-out).
    public let transactional: Bool
    /// Who may enter.
    public let audience: Campaign.Audience
    /// What starts an instance.
    public let trigger: Campaign.Trigger
    /// Repetition and throughput limits, counted over the journey's message steps.
    public let limits: Campaign.Limits
    /// Conversion tracking, if any.
    public let conversion: Campaign.Conversion?
    /// Who may enter again.
    public let reEntry: ReEntry
    /// What ends an instance early.
    public let exitWhen: [ExitCondition]
    /// The steps in file order; the first is where every instance starts. Never empty.
    public let steps: [JourneyStep]
    /// The journey file's path.
    public let file: String
    /// The fingerprint of the file's content: instances keep the version they entered on.
    public let version: JourneyVersion

    /// A journey from validated parts (tests and tools; files go through `CampaignFile.parseAny`).
    public init(
        id: String, name: String, status: Status, topic: String?, priority: Int, transactional: Bool,
        audience: Campaign.Audience, trigger: Campaign.Trigger, limits: Campaign.Limits,
        conversion: Campaign.Conversion?, reEntry: ReEntry, exitWhen: [ExitCondition], steps: [JourneyStep],
        file: String, version: JourneyVersion
    ) {
        precondition(!steps.isEmpty, "a journey has at least one step")
        self.id = id
        self.name = name
        self.status = status
        self.topic = topic
        self.priority = priority
        self.transactional = transactional
        self.audience = audience
        self.trigger = trigger
        self.limits = limits
        self.conversion = conversion
        self.reEntry = reEntry
        self.exitWhen = exitWhen
        self.steps = steps
        self.file = file
        self.version = version
    }

    /// The file's text, kept in the store with the version so that instances can run on it after an edit.
    public var source: String = ""

    /// The step every instance starts at.
    public var firstStep: JourneyStep { steps[0] }

    /// The start of a new instance: the first step.
    public var entryTarget: JourneyTarget { .step(steps[0].id) }

    /// The step with this id.
    public func step(_ id: String) -> JourneyStep? { steps.first { $0.id == id } }

    /// The position of the step with this id in the file.
    public func index(of id: String) -> Int? { steps.firstIndex { $0.id == id } }

    /// The `exit_when` event names.
    public var exitEvents: [String] {
        exitWhen.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    /// Which rows of `snapshot` are in the audience (the segment and not the exclude) in `env`.
    public func audienceMask(_ snapshot: AudienceSnapshot, _ env: EvaluationEnvironment, population: PopulationStats)
        -> [Bool]
    {
        var mask = audience.segment.evaluate(snapshot, env, population: population)
        if let ex = audience.exclude {
            let out = ex.evaluate(snapshot, env, population: population)
            for i in mask.indices where mask[i] && out[i] { mask[i] = false }
        }
        return mask
    }

    /// The `exit_when` segments.
    public var exitSegments: [CompiledSegment] {
        exitWhen.compactMap { if case .segment(let s) = $0 { s } else { nil } }
    }

    /// What an audience snapshot must load for this journey: the audience, exit segments and branch
    /// conditions, plus trigger, cancel, exit, wait_for and conversion events.
    public var requirements: SnapshotRequirements {
        var r = audience.segment.requirements
        if let ex = audience.exclude { r = r.union(ex.requirements) }
        if case .event(let name, _, let cancel) = trigger {
            r.events.insert(name)
            if let cancel { r.events.insert(cancel.event) }
        }
        if let conversion { r.events.insert(conversion.event) }
        for c in exitWhen {
            switch c {
            case .event(let e): r.events.insert(e)
            case .segment(let s): r = r.union(s.requirements)
            }
        }
        for step in steps {
            switch step.kind {
            case .waitFor(let w): r.events.insert(w.event)
            case .branch(let b): for arm in b.arms { r = r.union(arm.condition.requirements) }
            default: break
            }
        }
        return r
    }

    /// The campaign a message step is decided as: this journey's id, topic, priority, transactional flag,
    /// audience, trigger, limits and conversion with the step's message and send time (no experiment).
    /// Nil for a step that is not a message step.
    public func messageCampaign(for step: JourneyStep) -> Campaign? {
        guard case .message(let m) = step.kind else { return nil }
        let status: Campaign.Status =
            switch self.status {
            case .active: .active
            case .draft: .draft
            case .paused, .stopped: .paused
            }
        return Campaign(
            id: id, name: name, status: status, topic: topic, priority: priority,
            transactional: transactional,
            audience: audience, trigger: trigger, sendTime: m.sendTime, limits: limits, experiment: nil,
            conversion: conversion, message: m.message, file: file)
    }
}

/// The fingerprint of a journey file's content (docs/journeys.md, "Versions"): 128 bits as 32 hex digits.
/// Equal texts give equal versions on every machine and run; any edit, comments and spacing included, gives a new one.
public struct JourneyVersion: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits.
    public let hex: String

    /// The version of a file whose text is `content`.
    public init(content: String) {
        // Two differently salted 64-bit AssignmentHash values: stable across processes (never `Hasher`).
        let a = AssignmentHash.hash("journey-version-1", content)
        let b = AssignmentHash.hash("journey-version-2", content)
        hex = Self.hex16(a) + Self.hex16(b)
    }

    /// A version read back from storage; nil unless it is 32 lowercase hex digits.
    public init?(hex: String) {
        guard hex.count == 32,
            hex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) })
        else { return nil }
        self.hex = hex
    }

    /// The hex digits.
    public var description: String { hex }

    private static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
