extension AudienceSnapshot {
    /// A snapshot holding exactly `users`, in order (the inverse of `facts(row:)`): the daemon plans one user
    /// arriving with an event through the same bulk pipeline as a whole audience.
    public init(facts users: [UserFacts], schema: AttributeSchema) {
        var s = AudienceSnapshot()
        var zones: [String: Int32] = [:]
        for u in users {
            let p = u.profile
            s.ids.append(p.id)
            s.email.append(p.email)
            s.phone.append(p.phone)
            s.locale.append(p.locale)
            if let z = p.timezone {
                if zones[z] == nil {
                    zones[z] = Int32(s.timezoneNames.count)
                    s.timezoneNames.append(z)
                }
                s.timezone.append(zones[z]!)
            } else {
                s.timezone.append(-1)
            }
            s.createdAt.append(p.createdAt ?? AudienceSnapshot.nullTime)
            s.lastSeenImported.append(p.lastSeenAt ?? AudienceSnapshot.nullTime)
            s.birthday.append(p.birthday?.midnightUTC ?? AudienceSnapshot.nullTime)
            s.engagement.append(u.engagement ?? .nan)
            s.pushDevices.append(UInt8(clamping: p.pushDevices))
            s.allEvents.timestamps += u.allEventTimes
            s.allEvents.offsets.append(s.allEvents.timestamps.count)
        }
        for campaign in Set(users.flatMap(\.received.keys)) {
            s.received[campaign] = users.map { $0.received[campaign] ?? AudienceSnapshot.nullTime }
        }
        for (name, type) in schema.types {
            let values = users.map { $0.profile.attributes[name] ?? .null }
            switch type {
            case .number: s.attributes[name] = .number(values.map { if case .number(let v) = $0 { v } else { .nan } })
            case .bool: s.attributes[name] = .bool(values.map { if case .bool(let v) = $0 { v ? 1 : 0 } else { -1 } })
            case .timestamp:
                s.attributes[name] = .timestamp(values.map { if case .timestamp(let v) = $0 { v } else { AudienceSnapshot.nullTime } })
            case .string:
                var dict: [String] = []
                let codes = values.map { v -> Int32 in
                    guard case .string(let x) = v else { return -1 }
                    if let k = dict.firstIndex(of: x) { return Int32(k) }
                    dict.append(x)
                    return Int32(dict.count - 1)
                }
                s.attributes[name] = .string(codes: codes, dictionary: dict)
            case .list:
                var dict: [String] = []
                var offsets: [Int32] = [0]
                var codes: [Int32] = []
                var isNull: [Bool] = []
                for v in values {
                    if case .list(let items) = v {
                        for x in items {
                            if let k = dict.firstIndex(of: x) { codes.append(Int32(k)) } else {
                                dict.append(x)
                                codes.append(Int32(dict.count - 1))
                            }
                        }
                        isNull.append(false)
                    } else {
                        isNull.append(true)
                    }
                    offsets.append(Int32(codes.count))
                }
                s.attributes[name] = .list(offsets: offsets, codes: codes, dictionary: dict, isNull: isNull)
            }
        }
        let names = Set(users.flatMap { $0.events.keys })
        for name in names {
            let props = Set(users.flatMap { $0.events[name]?.numbers.keys.map { $0 } ?? [] })
            var col = EventColumn(offsets: [0], timestamps: [])
            for p in props { col.numbers[p] = [] }
            for u in users {
                let series = u.events[name] ?? EventSeries()
                col.timestamps += series.timestamps
                for p in props {
                    col.numbers[p]! += series.numbers[p] ?? Array(repeating: .nan, count: series.timestamps.count)
                }
                col.offsets.append(col.timestamps.count)
            }
            s.events[name] = col
        }
        self = s
    }
}
