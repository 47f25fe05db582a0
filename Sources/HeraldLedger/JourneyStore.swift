import HeraldCore

/// Where a journey instance stands (docs/journeys.md, "Storage"). The stored text is `rawValue`.
public enum JourneyInstanceStatus: Sendable, Hashable, CustomStringConvertible {
    /// Moving or waiting.
    case active
    /// Reached `exit` through its steps.
    case completed
    /// Ended by an `exit_when` event (its name) as soon as it was stored.
    case exitedEvent(String)
    /// Ended by an `exit_when` segment matching when the user reached a step.
    case exitedSegment
    /// Ended because the journey's status became `stopped`.
    case stopped

    /// `active`, `completed`, `exited:<event>`, `exited:segment`, `journey_stopped`.
    public var rawValue: String {
        switch self {
        case .active: "active"
        case .completed: "completed"
        case .exitedEvent(let e): "exited:" + e
        case .exitedSegment: "exited:segment"
        case .stopped: "journey_stopped"
        }
    }

    /// The status stored as `text`.
    public init(stored text: String) {
        switch text {
        case "active": self = .active
        case "completed": self = .completed
        case "exited:segment": self = .exitedSegment
        case "journey_stopped": self = .stopped
        default: self = text.hasPrefix("exited:") ? .exitedEvent(String(text.dropFirst(7))) : .completed
        }
    }

    public var description: String { rawValue }

    /// True once the instance ended.
    public var isFinal: Bool { self != .active }
}

/// One user's pass through one journey: where it is, since when, and when the runner looks at it next.
public struct JourneyInstance: Sendable, Hashable {
    /// The journey id.
    public var journey: String
    /// The instance id: the trigger's occurrence id.
    public var id: String
    /// The user.
    public var user: String
    /// The journey version (`JourneyVersion.hex`) the instance entered on and keeps until it ends.
    public var version: String
    /// Its status.
    public var status: JourneyInstanceStatus
    /// The step it is at (`exit` once it ended).
    public var step: String
    /// When it reached that step, epoch seconds: a step's wait or window counts from here.
    public var reachedAt: Int64
    /// When the runner next looks at it, epoch seconds; nil once it ended.
    public var dueAt: Int64?
    /// The ledger key of the current message step's row, once recorded.
    public var messageKey: String?
    /// When it entered.
    public var enteredAt: Int64
    /// How many moves it made: each move names the count it saw, so two daemons never both make one.
    public var moves: Int

    /// An instance.
    public init(
        journey: String, id: String, user: String, version: String, status: JourneyInstanceStatus = .active,
        step: String, reachedAt: Int64, dueAt: Int64?, messageKey: String? = nil, enteredAt: Int64, moves: Int = 0
    ) {
        self.journey = journey
        self.id = id
        self.user = user
        self.version = version
        self.status = status
        self.step = step
        self.reachedAt = reachedAt
        self.dueAt = dueAt
        self.messageKey = messageKey
        self.enteredAt = enteredAt
        self.moves = moves
    }
}

/// One step an instance took, for `herald why`, `herald stats` and the API: which step, when, and how it ended.
public struct JourneyStepRecord: Sendable, Hashable {
    public var journey: String
    public var instance: String
    public var user: String
    /// The step id.
    public var step: String
    /// When the step ended, epoch seconds.
    public var at: Int64
    /// How it ended: `sent`, `skipped:<reason>`, `waited`, `event`, `timeout`, `branch:<n>`, `else`,
    /// `split:<n>`, or the instance's final status.
    public var outcome: String
    /// Where it went next (a step id or `exit`).
    public var next: String

    /// A record.
    public init(journey: String, instance: String, user: String, step: String, at: Int64, outcome: String, next: String) {
        self.journey = journey
        self.instance = instance
        self.user = user
        self.step = step
        self.at = at
        self.outcome = outcome
        self.next = next
    }
}

/// Journey state in the store: versions, instances found by index when due, and their step records. Every
/// move is a compare-and-set on `moves`, so each step runs at most once per instance across crashes,
/// reloads and several daemons.
public protocol JourneyStore: Sendable {
    /// Keeps the text of a journey version (idempotent), so instances can run on it after the file changed.
    func saveJourneyVersion(journey: String, version: String, file: String, source: String) async throws
    /// The text and file name of a kept version, or nil.
    func journeyVersion(journey: String, version: String) async throws -> (file: String, source: String)?
    /// Starts `instance` unless the user has an active instance of the journey, or re-entry forbids it
    /// (`never`: any earlier instance; `after`: one entered less than that many seconds before). True when
    /// it started; an instance id that exists already is never started twice.
    func enterJourney(_ instance: JourneyInstance, reEntryAfter: Int64?) async throws -> Bool
    /// Several entries, each as `enterJourney` describes, in as few transactions as the backend can; returns,
    /// in order, whether each started. Entries of one user are taken in order (a second one in the same call
    /// finds the first active).
    func enterJourneys(_ entries: [(instance: JourneyInstance, reEntryAfter: Int64?)]) async throws -> [Bool]
    /// Active instances due at `now` (in `shards` when given), at most `limit`, leased to `owner` until
    /// `now + lease` by moving their due time there: another runner sees them again only if this one died.
    func claimDueInstances(now: Int64, limit: Int, shards: [Int]?, lease: Int64) async throws -> [JourneyInstance]
    /// Writes `instance` (its new step, status, due time, message key) if its stored `moves` is still
    /// `expectedMoves`, with `records`, in one transaction; `moves` becomes `expectedMoves + 1`. False when
    /// another move came first (nothing is written).
    func moveInstance(_ instance: JourneyInstance, expectedMoves: Int, records: [JourneyStepRecord]) async throws -> Bool
    /// Several moves, each a compare-and-set as `moveInstance` describes, in as few transactions as the
    /// backend can; returns, in order, whether each was written.
    func moveInstances(_ moves: [JourneyMove]) async throws -> [Bool]
    /// The user's active instances of every journey.
    func activeInstances(user: String) async throws -> [JourneyInstance]
    /// The user's instances of `journey`, newest first.
    func journeyInstances(journey: String, user: String) async throws -> [JourneyInstance]
    /// Every instance of `journey`, oldest entry first (for stats per path).
    func journeyInstances(journey: String) async throws -> [JourneyInstance]
    /// Step records of one instance (oldest first).
    func journeyRecords(journey: String, instance: String) async throws -> [JourneyStepRecord]
    /// Every step record of `journey`, for stats.
    func journeyRecords(journey: String) async throws -> [JourneyStepRecord]
    /// Instances of `journey` by status text.
    func journeyStatusCounts(journey: String) async throws -> [String: Int]
}

/// One compare-and-set move of a journey instance (`JourneyStore.moveInstances`).
public struct JourneyMove: Sendable, Hashable {
    /// The instance as it is to be written.
    public var instance: JourneyInstance
    /// The move count the writer read.
    public var expectedMoves: Int
    /// The steps the move finished.
    public var records: [JourneyStepRecord]

    /// A move.
    public init(instance: JourneyInstance, expectedMoves: Int, records: [JourneyStepRecord]) {
        self.instance = instance
        self.expectedMoves = expectedMoves
        self.records = records
    }
}

extension JourneyStore {
    /// One transaction per entry (a backend that can do better overrides it).
    public func enterJourneys(_ entries: [(instance: JourneyInstance, reEntryAfter: Int64?)]) async throws -> [Bool] {
        var started: [Bool] = []
        for e in entries { started.append(try await enterJourney(e.instance, reEntryAfter: e.reEntryAfter)) }
        return started
    }

    /// One transaction per move (a backend that can do better overrides it).
    public func moveInstances(_ moves: [JourneyMove]) async throws -> [Bool] {
        var written: [Bool] = []
        for m in moves {
            written.append(try await moveInstance(m.instance, expectedMoves: m.expectedMoves, records: m.records))
        }
        return written
    }
}
