// sent("step"), opened("step") and clicked("step"): segment functions that exist only in a journey's branch
// conditions, about the messages of the instance being evaluated (docs/journeys.md, "branch").

/// What a journey branch condition asks about one of the instance's message steps.
public enum JourneyMessageFact: String, Sendable, Hashable, CaseIterable {
    /// The step's message was sent (accepted by a provider).
    case sent
    /// An open of it was recorded.
    case opened
    /// A click on one of its tracked links was recorded.
    case clicked
}

/// What one journey instance's message steps did, as the branch functions read it.
public struct JourneyMessageFacts: Sendable, Hashable {
    /// Ids of the message steps whose message was sent.
    public var sent: Set<String>
    /// Ids of the message steps whose message was opened.
    public var opened: Set<String>
    /// Ids of the message steps whose message was clicked.
    public var clicked: Set<String>

    /// Facts; none by default.
    public init(sent: Set<String> = [], opened: Set<String> = [], clicked: Set<String> = []) {
        self.sent = sent
        self.opened = opened
        self.clicked = clicked
    }

    /// True when `fact` holds for step `step`.
    public func holds(_ fact: JourneyMessageFact, step: String) -> Bool {
        switch fact {
        case .sent: sent.contains(step)
        case .opened: opened.contains(step)
        case .clicked: clicked.contains(step)
        }
    }
}

/// The steps a branch condition may name: every step of the journey in file order, and the branch's position.
public struct JourneyFunctionScope: Sendable, Hashable {
    /// `(id, kind)` of every step, in file order; kind is `message`, `wait`, `wait_for`, `branch` or `split`.
    public var steps: [Step]
    /// The index in `steps` of the branch whose condition is checked.
    public var position: Int

    /// One step as the scope sees it.
    public struct Step: Sendable, Hashable {
        /// Its id.
        public var id: String
        /// Its kind's key.
        public var kind: String

        /// A step.
        public init(id: String, kind: String) {
            self.id = id
            self.kind = kind
        }
    }

    /// A scope.
    public init(steps: [Step], position: Int) {
        self.steps = steps
        self.position = position
    }
}

extension SegmentChecker {
    /// Checks sent() / opened() / clicked(): only inside a journey branch, naming an earlier message step.
    mutating func checkJourneyCall(
        _ fact: JourneyMessageFact, _ nameSpan: SegSpan, _ args: [Syntax], _ span: SegSpan
    )
        -> (TExpr, SType)?
    {
        let name = fact.rawValue
        guard let scope = journey else {
            return fail(
                "\(name)() can only be used in a journey's branch conditions", nameSpan,
                suggestion: "\(name)(\"step\") is about a message step of the same journey instance")
        }
        guard args.count == 1 else {
            return fail(
                "\(name) takes 1 argument, got \(args.count)", span, suggestion: "usage: \(name)(\"step-id\")"
            )
        }
        let step: String
        switch args[0].kind {
        case .string(let v), .ident(let v): step = v
        default: return fail("expected a step id such as \"welcome\"", args[0].span)
        }
        guard let index = scope.steps.firstIndex(where: { $0.id == step }) else {
            let messages = scope.steps.filter { $0.kind == "message" }.map(\.id)
            let known =
                messages.isEmpty
                ? "this journey has no message steps" : "message steps: " + messages.joined(separator: ", ")
            return fail(
                "unknown step '\(step)' in \(name)()", args[0].span,
                suggestion: NearMiss.didYouMean(step, among: messages).map { "\($0) \(known)" } ?? known)
        }
        let kind = scope.steps[index].kind
        guard kind == "message" else {
            return fail("step '\(step)' is a \(kind) step; \(name)() is about message steps", args[0].span)
        }
        guard index < scope.position else {
            return fail(
                "step '\(step)' comes after this branch, so it has never run when the branch is evaluated",
                args[0].span, suggestion: "name a message step listed before the branch")
        }
        return (.journeyMessage(fact, step), .bool)
    }
}
