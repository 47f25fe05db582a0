import HeraldCore
import HeraldDelivery

/// The human dry-run report: what a marketer checks before pressing go.
struct DryRunReport {
    let campaign: Campaign
    let occurrence: Occurrence
    let now: Int64
    let decisions: [Decision]
    let inputs: PlanningInputs
    let publicURL: String?
    let samples: Int

    func print() {
        let utc = TimestampParser.formatUTC
        Console.out(
            "campaign   \(campaign.id) (\(campaign.name)), priority \(campaign.priority)\(campaign.transactional ? ", transactional" : "")"
        )
        if campaign.status != .active {
            Console.out("status     \(campaign.status.rawValue): the daemon will not run it; planned here anyway")
        }
        Console.out("occurrence \(occurrence.id), planned at \(utc(now))")
        Console.out(
            "window     \(utc(occurrence.start)) – \(utc(occurrence.start + campaign.sendTime.within)), \(campaign.sendTime.strategy.rawValue)"
        )
        Console.out("audience   \(decisions.count) of \(inputs.snapshot.count) users")
        let defaulted = decisions.filter(\.timezoneDefaulted).count
        Console.out(
            "time zone  \(defaulted) user\(defaulted == 1 ? "" : "s") without a valid zone get default_timezone \(inputs.policy.defaultTimezone)"
        )
        Console.out("")
        outcomes()
        split()
        histogram()
        pushPayloads()
        rendered()
    }

    /// Push sends whose payload is over a provider's 4 KB limit: each would end `payload_too_large`
    /// (docs/push.md). Every planned push is rendered and measured as APNs, FCM and Web Push measure it.
    private func pushPayloads() {
        var over = 0
        var largest = 0
        var pushes = 0
        for d in decisions where d.outcome == .send && d.channel == .push {
            pushes += 1
            let m = RenderedMessage.render(
                campaign: campaign, variant: d.variant, channel: .push, facts: inputs.snapshot.facts(row: d.row),
                unsubscribeURL: nil)
            let content = PushContent(m.push ?? RenderedPush())
            let sizes = PushProvider.allCases.map { PushSender.size(of: content, key: d.idempotencyKey(), for: $0) }
            largest = max(largest, sizes.map(\.bytes).max() ?? 0)
            if sizes.contains(where: { $0.bytes > $0.limit }) { over += 1 }
        }
        guard pushes > 0 else { return }
        Console.out(over == 0
            ? "push payloads: all \(pushes) within the providers' limits (largest \(largest) bytes)"
            : "push payloads: \(over) of \(pushes) over a provider's limit: they would end payload_too_large (largest \(largest) bytes)")
        Console.out("")
    }

    private func outcomes() {
        var counts: [String: Int] = [:]
        for d in decisions { counts["\(d.outcome.rawValue)\t\(d.reason ?? "-")", default: 0] += 1 }
        var table = TextTable(header: ["outcome", "reason", "users", "share"])
        for (key, n) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            let parts = key.split(separator: "\t").map(String.init)
            table.add([parts[0], parts[1], String(n), percent(n)])
        }
        table.render().forEach(Console.out)
        Console.out("")
    }

    private func split() {
        var groups: [String: Int] = [:]
        var channels: [String: Int] = [:]
        for d in decisions {
            groups[d.outcome == .holdout ? "holdout" : (d.variant ?? "(no experiment)"), default: 0] += 1
            if d.outcome == .send, let c = d.channel { channels[c.rawValue, default: 0] += 1 }
        }
        var table = TextTable(header: ["group", "users", "share"])
        for (g, n) in groups.sorted(by: { $0.key < $1.key }) { table.add([g, String(n), percent(n)]) }
        for (c, n) in channels.sorted(by: { $0.key < $1.key }) {
            table.add(["send via \(c)", String(n), percent(n)])
        }
        // Which users a winner test and a staged rollout reach first (docs/experiments.md).
        if case .test(let plan)? = campaign.experiment?.winner {
            let n = decisions.filter { ExperimentBucket.winnerTest(campaign: campaign.id, user: $0.user) < plan.testShare }.count
            table.add(["winner test (first)", String(n), percent(n)])
            table.add(["rest (after the decision)", String(decisions.count - n), percent(decisions.count - n)])
        }
        if let rollout = campaign.rollout {
            for k in 0..<rollout.stages.count {
                let r = rollout.stages.range(ofStage: k)
                let n = decisions.filter {
                    let b = ExperimentBucket.rollout(campaign: campaign.id, user: $0.user)
                    return b >= r.lower && b < r.upper
                }.count
                table.add(["rollout " + rollout.stages.label(ofStage: k), String(n), percent(n)])
            }
        }
        table.render().forEach(Console.out)
        Console.out("")
    }

    private func histogram() {
        var hours = [Int](repeating: 0, count: 24)
        var first = Int64.max
        var last = Int64.min
        for d in decisions where d.outcome == .send {
            if let h = d.localHour { hours[h] += 1 }
            if let t = d.sendAt {
                first = min(first, t)
                last = max(last, t)
            }
        }
        let total = hours.reduce(0, +)
        guard total > 0 else {
            Console.out("no sends planned")
            return
        }
        Console.out(
            "planned sends by recipient-local hour (\(TimestampParser.formatUTC(seconds: first)) – \(TimestampParser.formatUTC(seconds: last))):"
        )
        let peak = hours.max() ?? 1
        for (h, n) in hours.enumerated() where n > 0 {
            let bar = String(repeating: "█", count: max(1, n * 40 / max(peak, 1)))
            Console.out(
                "  \(h < 10 ? "0" : "")\(h):00  \(String(repeating: " ", count: max(0, 7 - String(n).count)))\(n)  \(bar)"
            )
        }
        Console.out("")
    }

    private func rendered() {
        let sends = decisions.lazy.filter { $0.outcome == .send }.prefix(samples)
        for (i, d) in sends.enumerated() {
            guard let channel = d.channel else { continue }
            let facts = inputs.snapshot.facts(row: d.row)
            let m = RenderedMessage.render(
                campaign: campaign, variant: d.variant, channel: channel, facts: facts,
                unsubscribeURL: campaign.transactional ? nil : "\(publicURL ?? "")/u/PREVIEW-TOKEN")
            let to = d.address.map(ContactValidator.mask) ?? (channel == .push ? "(devices)" : "(webhook)")
            let at = d.sendAt.map { TimestampParser.formatUTC(seconds: $0) } ?? "-"
            // Profiles come from outside: their control characters are shown escaped, line feeds kept.
            let show = VisibleText.escapeLines
            let variant = d.variant.map { ", variant \($0)" } ?? ""
            Console.out(
                show("── sample \(i + 1): \(VisibleText.escape(d.user)) via \(channel.rawValue) to \(to) at \(at)\(variant)"))
            if let s = m.subject { Console.out("Subject: \(VisibleText.escape(s))") }
            if let sms = m.sms { Console.out("[\(sms)]") }
            if let t = m.text { Console.out(show(t)) }
            if let h = m.html { Console.out("--- html ---\n\(show(h))") }
            if let j = m.json { Console.out(show(j)) }
            if let p = m.push {
                if let t = p.title { Console.out("Title: \(VisibleText.escape(t))") }
                if let b = p.body { Console.out(show(b)) }
                for (k, v) in p.data.sorted(by: { $0.key < $1.key }) { Console.out("data.\(k): \(VisibleText.escape(v))") }
            }
            Console.out("")
        }
    }

    private func percent(_ n: Int) -> String {
        decisions.isEmpty ? "-" : String(format: "%.1f%%", Double(n) * 100 / Double(decisions.count))
    }
}
