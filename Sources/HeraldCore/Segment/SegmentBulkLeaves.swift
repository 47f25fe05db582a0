// Bulk evaluation: fields, comparisons and membership over snapshot columns.

extension SegmentBulk {
    func field(_ f: FieldRef) -> BulkCol {
        switch f {
        case .reserved(let r):
            switch r {
            case .id:
                let ids = snap.ids
                return .str { ids[$0] }
            case .email:
                let c = snap.email
                return .str { c[$0] }
            case .phone:
                let c = snap.phone
                return .str { c[$0] }
            case .locale:
                let c = snap.locale
                return .str { c[$0] }
            case .timezone: return .dict(snap.timezone, snap.timezoneNames)
            case .createdAt:
                let c = snap.createdAt
                return .int { c[$0] }
            case .birthday:
                let c = snap.birthday
                return .int { c[$0] }
            case .lastSeenAt: return field(.lastSeen)
            }
        case .lastSeen:
            let t = snap.allEvents.timestamps
            let offs = snap.allEvents.offsets
            let created = snap.createdAt
            let imported = snap.lastSeenImported
            let now = env.now
            return .int { i in
                DerivedFields.seen(t, offs[i]..<offs[i + 1], createdAt: created[i], imported: imported[i], now: now)
            }
        case .attribute(let name, let type):
            switch (snap.attributes[name], type) {
            case (.number(let c)?, .number): return .num { c[$0] }
            case (.bool(let c)?, .bool): return .bool3 { c[$0] < 0 ? -1 : (c[$0] == 0 ? 0 : 1) }
            case (.string(let codes, let dict)?, .string): return .dict(codes, dict)
            case (.timestamp(let c)?, .timestamp): return .int { c[$0] }
            case (.list(let o, let c, let d, let n)?, .list): return .list(offsets: o, codes: c, dictionary: d, isNull: n)
            case (_, .number): return .num { _ in .nan }
            case (_, .bool): return .bool3 { _ in -1 }
            case (_, .string): return .str { _ in nil }
            case (_, .timestamp): return .int { _ in Int64.min }
            case (_, .list): return .list(offsets: [], codes: [], dictionary: [], isNull: [])
            }
        }
    }

    func compare(_ op: CmpOp, _ l: TExpr, _ r: TExpr, _ t: SType) -> (Int) -> Bool {
        switch t {
        case .number:
            let (a, b) = (num(l), num(r))
            return { i in
                let x = a(i)
                let y = b(i)
                return !x.isNaN && !y.isNaN && op.test(x, y)
            }
        case .timestamp, .duration:
            let (a, b) = (int(l), int(r))
            return { i in
                let x = a(i)
                let y = b(i)
                return x != Int64.min && y != Int64.min && op.test(x, y)
            }
        case .bool:
            let (a, b) = (bool3(compile(l)), bool3(compile(r)))
            return { i in
                let x = a(i)
                let y = b(i)
                return x >= 0 && y >= 0 && (op == .eq ? x == y : x != y)
            }
        default:
            // lifecycle against a literal: decide once per stage.
            if case .lifecycle = l, case .string(let lit) = r {
                return lifecycleTest { op.test($0, lit) }
            }
            if case .lifecycle = r, case .string(let lit) = l {
                return lifecycleTest { op.test(lit, $0) }
            }
            let lc = compile(l)
            let rc = compile(r)
            // A dictionary column against a literal: decide once per dictionary entry.
            if case .dict(let codes, let dict) = lc, case .string(let lit) = r {
                let table = dict.map { op.test($0, lit) }
                return { i in
                    let k = codes[i]
                    return k >= 0 && table[Int(k)]
                }
            }
            if case .dict(let codes, let dict) = rc, case .string(let lit) = l {
                let table = dict.map { op.test(lit, $0) }
                return { i in
                    let k = codes[i]
                    return k >= 0 && table[Int(k)]
                }
            }
            let (a, b) = (str(lc), str(rc))
            return { i in
                guard let x = a(i), let y = b(i) else { return false }
                return op.test(x, y)
            }
        }
    }

    func member(_ x: TExpr, _ list: TExpr, _ t: SType) -> (Int) -> Bool {
        let lc = compile(list)
        if t == .number {
            let f = num(x)
            switch lc {
            case .numbers(let items):
                return { i in
                    let v = f(i)
                    return !v.isNaN && items.contains(v)
                }
            default: return { _ in false }
            }
        }
        if case .lifecycle = x, case .strings(let items) = lc {
            let set = Set(items)
            return lifecycleTest { set.contains($0) }
        }
        let xc = compile(x)
        switch lc {
        case .strings(let items):
            let set = Set(items)
            if case .dict(let codes, let dict) = xc {
                let table = dict.map { set.contains($0) }
                return { i in
                    let k = codes[i]
                    return k >= 0 && table[Int(k)]
                }
            }
            let f = str(xc)
            return { i in
                guard let v = f(i) else { return false }
                return set.contains(v)
            }
        case .list(let offsets, let codes, let dict, let isNull):
            if offsets.isEmpty { return { _ in false } }
            if case .string(let lit) = x {
                // Every dictionary code whose string equals the literal (normally one).
                let wanted = Set(dict.indices.filter { dict[$0] == lit }.map(Int32.init))
                if wanted.isEmpty { return { _ in false } }
                let single = wanted.count == 1 ? wanted.first! : nil
                return { i in
                    if isNull[i] { return false }
                    var k = Int(offsets[i])
                    let end = Int(offsets[i + 1])
                    while k < end {
                        let c = codes[k]
                        if let s = single { if c == s { return true } } else if wanted.contains(c) { return true }
                        k += 1
                    }
                    return false
                }
            }
            let f = str(xc)
            return { i in
                guard !isNull[i], let v = f(i) else { return false }
                var k = Int(offsets[i])
                let end = Int(offsets[i + 1])
                while k < end {
                    if dict[Int(codes[k])] == v { return true }
                    k += 1
                }
                return false
            }
        default:
            return { _ in false }
        }
    }

    /// A per-row test of the lifecycle stage through a table of the stages' names.
    func lifecycleTest(_ test: (String) -> Bool) -> (Int) -> Bool {
        let table = LifecycleStage.allCases.map { test($0.rawValue) }
        let t = snap.allEvents.timestamps
        let offs = snap.allEvents.offsets
        let created = snap.createdAt
        let imported = snap.lastSeenImported
        let env = env
        return { i in
            guard let stage = DerivedFields.stage(t, offs[i]..<offs[i + 1], createdAt: created[i], imported: imported[i], env)
            else { return false }
            return table[stage.ordinal]
        }
    }
}

extension LifecycleStage {
    /// The position in `allCases`.
    var ordinal: Int {
        switch self {
        case .new: 0
        case .returning: 1
        case .active: 2
        case .lapsing: 3
        case .dormant: 4
        case .churned: 5
        }
    }
}
