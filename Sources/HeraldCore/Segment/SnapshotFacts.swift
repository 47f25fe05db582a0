// Reading one snapshot row back as `UserFacts`, so the two evaluators can be cross-checked.

extension AudienceSnapshot {
    /// The facts of row `row`, as the single-user evaluator sees them.
    public func facts(row i: Int) -> UserFacts {
        func time(_ v: Int64) -> Int64? { v == AudienceSnapshot.nullTime ? nil : v }
        var attrs: [String: Value] = [:]
        for (name, col) in attributes {
            switch col {
            case .number(let c): if !c[i].isNaN { attrs[name] = .number(c[i]) }
            case .bool(let c): if c[i] >= 0 { attrs[name] = .bool(c[i] != 0) }
            case .string(let codes, let dict): if codes[i] >= 0 { attrs[name] = .string(dict[Int(codes[i])]) }
            case .timestamp(let c): if let t = time(c[i]) { attrs[name] = .timestamp(t) }
            case .list(let offsets, let codes, let dict, let isNull):
                if !isNull[i] {
                    attrs[name] = .list(codes[Int(offsets[i])..<Int(offsets[i + 1])].map { dict[Int($0)] })
                }
            }
        }
        let tz = timezone[i]
        var profile = UserProfile(
            id: ids[i], email: email[i], phone: phone[i], timezone: tz < 0 ? nil : timezoneNames[Int(tz)],
            locale: locale[i], createdAt: time(createdAt[i]),
            birthday: time(birthday[i]).map { CivilDate(epochSeconds: $0) }, lastSeenAt: time(lastSeenImported[i]),
            attributes: attrs)
        profile.pushDevices = pushDevices(row: i)
        var events: [String: EventSeries] = [:]
        for (name, col) in self.events {
            let r = col.range(i)
            if r.isEmpty { continue }
            events[name] = EventSeries(
                timestamps: Array(col.timestamps[r]), numbers: col.numbers.mapValues { Array($0[r]) })
        }
        let g = engagement[i]
        var facts = UserFacts(
            profile: profile, events: events, allEventTimes: Array(allEvents.timestamps[allEvents.range(i)]),
            engagement: g.isNaN ? nil : g)
        for (campaign, column) in received where i < column.count && column[i] != AudienceSnapshot.nullTime {
            facts.received[campaign] = column[i]
        }
        return facts
    }
}
