import HeraldCore
import HeraldLedger

extension JourneyRunner {
    /// One round: claims the due instances (of this daemon's shards) and moves each as far as it goes now.
    /// Returns how many instances moved.
    public func tick(limit: Int = 200) async throws -> Int {
        let now = clock.seconds
        var shards: [Int]?
        if let keeper {
            shards = keeper.claimable(now: now)
            guard shards?.isEmpty == false else { return 0 }
        }
        let due = try await ledger.claimDueInstances(now: now, limit: limit, shards: shards, lease: Self.lease)
        return try await advance(due, book: book.current, now: now)
    }

    /// Moves `instances` as far as each goes at `now`, in rounds: every round computes each instance's move
    /// and writes them all at once (`moveInstances`, each a compare-and-set); an instance whose move left it
    /// due at once (a message step it just claimed) goes on in the next round. Returns how many instances
    /// moved at least once; one whose move lost a race, or whose version is unreadable, does not count.
    func advance(_ instances: [JourneyInstance], book: CampaignBook, now: Int64) async throws -> Int {
        var pending = instances
        var movedOnce = Set<String>()
        for _ in 0..<4 where !pending.isEmpty {
            var moves: [JourneyMove] = []
            for i in pending {
                if let m = try await move(i, book: book, now: now) { moves.append(m) }
            }
            let written = try await ledger.moveInstances(moves)
            pending = []
            for (m, ok) in zip(moves, written) where ok {
                let i = m.instance
                movedOnce.insert(i.journey + "\u{1F}" + i.user + "\u{1F}" + i.id)
                guard i.status == .active, let due = i.dueAt, due <= now else { continue }
                var next = i
                next.moves = m.expectedMoves + 1
                pending.append(next)
            }
        }
        return movedOnce.count
    }

    /// One instance's move at `now`, or nil when its version cannot be read.
    func advance(_ original: JourneyInstance, book: CampaignBook, now: Int64) async throws -> Bool {
        try await advance([original], book: book, now: now) == 1
    }

    /// The move `original` makes now: held (paused, draft), ended (stopped), or every step it can finish.
    func move(_ original: JourneyInstance, book: CampaignBook, now: Int64) async throws -> JourneyMove? {
        var i = original
        // The loaded file's status governs every version; a removed file leaves instances on their version.
        switch book.journey(i.journey)?.status {
        case .stopped?:
            i.status = .stopped
            i.step = "exit"
            i.dueAt = nil
            let record = JourneyStepRecord(
                journey: i.journey, instance: i.id, user: i.user, step: original.step, at: now,
                outcome: JourneyInstanceStatus.stopped.rawValue, next: "exit")
            return JourneyMove(instance: i, expectedMoves: original.moves, records: [record])
        case .paused?, .draft?:
            // Timers hold; on resume a wait whose time passed ends at once, a missed message window skips.
            i.dueAt = now + 60
            return JourneyMove(instance: i, expectedMoves: original.moves, records: [])
        case .active?, nil:
            guard let j = try await definition(original, book) else { return nil }
            var context = StepContext(runner: self, journey: j, book: book, now: now)
            let (next, records) = try await context.stretch(original)
            return JourneyMove(instance: next, expectedMoves: original.moves, records: records)
        }
    }

    /// The ledger key of a journey's message step for one instance.
    static func messageKey(journey: String, instance: String, user: String, step: String) -> String {
        "\(journey)/\(instance)/\(user)/\(step)"
    }
}

/// What one instance's steps read during one advance, loaded once.
struct StepContext {
    let runner: JourneyRunner
    let journey: JourneyDefinition
    let book: CampaignBook
    let now: Int64
    private var facts: UserFacts??

    init(runner: JourneyRunner, journey: JourneyDefinition, book: CampaignBook, now: Int64) {
        self.runner = runner
        self.journey = journey
        self.book = book
        self.now = now
    }

    /// The instance after every step it can finish now, up to a wait or a message step's claim, and the
    /// records of the steps it finished.
    mutating func stretch(_ start: JourneyInstance) async throws -> (JourneyInstance, [JourneyStepRecord]) {
        var i = start
        var records: [JourneyStepRecord] = []
        func record(_ step: String, _ outcome: String, _ next: String) {
            records.append(
                JourneyStepRecord(
                    journey: i.journey, instance: i.id, user: i.user, step: step, at: now, outcome: outcome, next: next))
        }
        for _ in 0..<JourneyRunner.maxHops {
            guard i.status == .active, let step = journey.step(i.step) else { break }
            if i.messageKey == nil, try await exitSegmentMatches(user: i.user) {
                record(step.id, JourneyInstanceStatus.exitedSegment.rawValue, "exit")
                i.status = .exitedSegment
                i.step = "exit"
                i.dueAt = nil
                break
            }
            guard let (outcome, text) = try await run(step, &i), let target = step.next(after: outcome) else { break }
            record(step.id, text, target.description)
            JourneyRunner.go(&i, to: target, at: now)
        }
        return (i, records)
    }

    var environment: EvaluationEnvironment {
        EvaluationEnvironment(
            now: now, lifecycle: book.config.lifecycle, defaultTimeZone: book.config.policy.defaultTimezone)
    }

    mutating func userFacts(_ user: String) async throws -> UserFacts? {
        if let facts { return facts }
        let read = try await runner.store.facts(id: user)
        facts = .some(read)
        return read
    }

    mutating func exitSegmentMatches(user: String) async throws -> Bool {
        guard !journey.exitSegments.isEmpty, let f = try await userFacts(user) else { return false }
        let population = try await runner.population(book, now)
        return journey.exitSegments.contains { $0.matches(f, environment, population: population) }
    }

    /// Runs one step: its outcome and the text recorded for it, or nil when the instance must wait (its due
    /// time set).
    mutating func run(_ step: JourneyStep, _ i: inout JourneyInstance) async throws -> (JourneyStepOutcome, String)? {
        switch step.kind {
        case .message(let m):
            return try await message(step, m, &i)
        case .wait(let w):
            let zone = try await clock(i.user)
            let due = w.due(reachedAt: i.reachedAt, clock: zone)
            if now >= due { return (.done, "waited") }
            i.dueAt = due
            return nil
        case .waitFor(let w):
            let timeout = w.timeout(reachedAt: i.reachedAt)
            guard now >= timeout else {
                i.dueAt = timeout
                return nil
            }
            // An event stored without passing through `handle(events:)` (an import) still wins if it happened
            // between the step and the timeout.
            if let f = try await userFacts(i.user),
                let times = f.events[w.event]?.timestamps,
                times.contains(where: { $0 >= i.reachedAt && $0 < timeout }), w.filter == nil
            {
                return (.event, "event")
            }
            return (.timeout, "timeout")
        case .branch(let b):
            guard let f = try await userFacts(i.user) else { return (.branch(arm: nil), "else") }
            var env = environment
            env.journey = try await messageFacts(i)
            let arm = b.choose(f, env, population: try await runner.population(book, now))
            return (.branch(arm: arm), arm.map { "branch:\($0 + 1)" } ?? "else")
        case .split(let s):
            let arm = s.arm(journey: journey.id, user: i.user, step: step.id)
            return (.split(arm: arm), "split:\(arm + 1)")
        }
    }

    /// The user's clock (their time zone, else the default).
    mutating func clock(_ user: String) async throws -> LocalClock {
        // The profile alone when the facts were not read already: a wait needs only the time zone.
        let zone: String?
        if let facts { zone = facts?.profile.timezone } else { zone = try await runner.store.profile(id: user)?.timezone }
        return LocalClock.resolve(zone, fallback: book.config.policy.defaultTimezone).clock
    }

    /// Which of this instance's message steps were sent, opened and clicked.
    func messageFacts(_ i: JourneyInstance) async throws -> JourneyMessageFacts {
        var facts = JourneyMessageFacts()
        for step in journey.steps {
            guard case .message = step.kind else { continue }
            let key = JourneyRunner.messageKey(journey: journey.id, instance: i.id, user: i.user, step: step.id)
            guard let row = try await runner.ledger.entry(key: key) else { continue }
            if row.sentAt != nil || [.sent, .delivered, .bounced].contains(row.status) { facts.sent.insert(step.id) }
            if row.openedAt != nil { facts.opened.insert(step.id) }
            if row.clickedAt != nil { facts.clicked.insert(step.id) }
        }
        return facts
    }
}
