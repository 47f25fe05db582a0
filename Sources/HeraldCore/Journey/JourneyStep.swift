/// Where a step leads: another step of the same journey, or the end of the instance.
public enum JourneyTarget: Sendable, Hashable, CustomStringConvertible {
    /// The step with this id.
    case step(String)
    /// The instance ends with status `completed`.
    case exit

    /// The step id, or `exit`.
    public var description: String {
        switch self {
        case .step(let id): id
        case .exit: "exit"
        }
    }
}

/// A day of the week, as `wait: { until: …, days: [...] }` names it.
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
    case sun = 0
    case mon, tue, wed, thu, fri, sat

    /// `mon`, `tue`, …
    public var name: String { String(describing: self) }

    /// The weekday named `mon` … `sun` (lowercase).
    public init?(name: String) {
        guard let d = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = d
    }

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
}

/// One step of a journey.
public struct JourneyStep: Sendable {
    /// What the step does.
    public enum Kind: Sendable {
        /// Sends one message through the decision pipeline.
        case message(JourneyMessageStep)
        /// Waits a fixed time or until a local time.
        case wait(JourneyWait)
        /// Waits for an event, with a timeout.
        case waitFor(JourneyWaitFor)
        /// Takes the first path whose condition holds.
        case branch(JourneyBranch)
        /// Takes a path by a deterministic hash of journey, user and step.
        case split(JourneySplit)

        /// `message`, `wait`, `wait_for`, `branch` or `split`.
        public var name: String {
            switch self {
            case .message: "message"
            case .wait: "wait"
            case .waitFor: "wait_for"
            case .branch: "branch"
            case .split: "split"
            }
        }
    }

    /// The id (`[a-z0-9][a-z0-9-]*`), unique in the journey, stable: part of ledger keys and stats.
    public let id: String
    /// What it does.
    public let kind: Kind
    /// Where its `id:` is written.
    public let location: SourceLocation

    /// A step.
    public init(id: String, kind: Kind, location: SourceLocation) {
        self.id = id
        self.kind = kind
        self.location = location
    }

    /// Every target the step can lead to, in the order the outcomes are listed.
    public var targets: [JourneyTarget] {
        switch kind {
        case .message(let m): [m.next]
        case .wait(let w): [w.next]
        case .waitFor(let w): [w.onEvent, w.onTimeout]
        case .branch(let b): b.arms.map(\.goto) + [b.otherwise]
        case .split(let s): s.arms.map(\.goto)
        }
    }
}

/// `on_capped`: what a message step does when a cap holds it back.
public enum JourneyOnCapped: String, Sendable, Hashable, CaseIterable {
    /// Waits for room inside its send window; skips with the cap's reason when the window ends.
    case `defer`
    /// Skips at once with the cap's reason.
    case skip
}

/// A `message` step.
public struct JourneyMessageStep: Sendable {
    /// What is sent.
    public var message: Campaign.Message
    /// When, counted from the moment the step is reached (default: immediate within 24h).
    public var sendTime: Campaign.SendTime
    /// What a cap does to it.
    public var onCapped: JourneyOnCapped
    /// Where the user goes once the step is done (default: the following step, or exit after the last).
    public var next: JourneyTarget

    /// A message step.
    public init(
        message: Campaign.Message, sendTime: Campaign.SendTime, onCapped: JourneyOnCapped, next: JourneyTarget
    ) {
        self.message = message
        self.sendTime = sendTime
        self.onCapped = onCapped
        self.next = next
    }
}

/// A `wait` step.
public struct JourneyWait: Sendable, Hashable {
    /// How long.
    public enum Length: Sendable, Hashable {
        /// This many seconds after the step is reached.
        case duration(Int64)
        /// The first such local time after the step is reached, on one of `days`, in the user's zone.
        case until(ClockTime, days: Set<Weekday>)
    }

    /// How long.
    public var length: Length
    /// Where the user goes when the wait ends.
    public var next: JourneyTarget

    /// A wait step.
    public init(length: Length, next: JourneyTarget) {
        self.length = length
        self.next = next
    }
}

/// A `wait_for` step.
public struct JourneyWaitFor: Sendable {
    /// The awaited event.
    public var event: String
    /// The timeout, seconds after the step is reached.
    public var within: Int64
    /// `where`: a condition on the event's properties, if any.
    public var filter: EventPropertyFilter?
    /// Where a matching event leads (default: the following step).
    public var onEvent: JourneyTarget
    /// Where the timeout leads (default: the following step).
    public var onTimeout: JourneyTarget

    /// A wait_for step.
    public init(
        event: String, within: Int64, filter: EventPropertyFilter?, onEvent: JourneyTarget,
        onTimeout: JourneyTarget
    ) {
        self.event = event
        self.within = within
        self.filter = filter
        self.onEvent = onEvent
        self.onTimeout = onTimeout
    }
}

/// A `branch` step: `if` arms in order, then `else`.
public struct JourneyBranch: Sendable {
    /// One `{ if: EXPR, goto: STEP }`.
    public struct Arm: Sendable {
        /// The condition, a segment expression that may also use sent(), opened() and clicked().
        public var condition: CompiledSegment
        /// Where it leads when it is the first that holds.
        public var goto: JourneyTarget

        /// An arm.
        public init(condition: CompiledSegment, goto: JourneyTarget) {
            self.condition = condition
            self.goto = goto
        }
    }

    /// The `if` arms, in file order.
    public var arms: [Arm]
    /// Where `else` leads.
    public var otherwise: JourneyTarget

    /// A branch.
    public init(arms: [Arm], otherwise: JourneyTarget) {
        self.arms = arms
        self.otherwise = otherwise
    }
}

/// A `split` step: paths with percentages summing to 100.
public struct JourneySplit: Sendable, Hashable {
    /// One `{ percent: N, goto: STEP }`.
    public struct Arm: Sendable, Hashable {
        /// The share of users, in percent (0 < percent ≤ 100).
        public var percent: Double
        /// Where it leads.
        public var goto: JourneyTarget

        /// An arm.
        public init(percent: Double, goto: JourneyTarget) {
            self.percent = percent
            self.goto = goto
        }
    }

    /// The arms, in file order.
    public var arms: [Arm]

    /// A split.
    public init(arms: [Arm]) { self.arms = arms }
}
