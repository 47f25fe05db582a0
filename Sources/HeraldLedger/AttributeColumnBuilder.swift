import HeraldCore

/// Builds one `AttributeColumn` of a declared type, converting stored values where it is lossless.
///
/// Public so that every store (SQLite, PostgreSQL) converts stored values into snapshot columns the same way.
public struct AttributeColumnBuilder {
    /// The declared type of the column.
    public let type: AttributeType
    private var numbers: [Double] = []
    private var bools: [Int8] = []
    private var times: [Int64] = []
    private var codes: [Int32] = []
    private var lists: [[Int32]?] = []
    private var dictionary: [String] = []
    private var index: [String: Int32] = [:]

    /// An all-null column of `count` rows.
    public init(type: AttributeType, count: Int) {
        self.type = type
        switch type {
        case .number: numbers = Array(repeating: .nan, count: count)
        case .bool: bools = Array(repeating: -1, count: count)
        case .timestamp: times = Array(repeating: AudienceSnapshot.nullTime, count: count)
        case .string: codes = Array(repeating: -1, count: count)
        case .list: lists = Array(repeating: nil, count: count)
        }
    }

    /// The dictionary code of `s`.
    private mutating func code(_ s: String) -> Int32 {
        if let c = index[s] { return c }
        let c = Int32(dictionary.count)
        dictionary.append(s)
        index[s] = c
        return c
    }

    /// Stores row `row`'s value (null or a mismatched type leaves the row null).
    public mutating func set(row: Int, _ v: Value) {
        switch (type, v) {
        case (.number, .number(let d)): numbers[row] = d
        case (.bool, .bool(let b)): bools[row] = b ? 1 : 0
        case (.timestamp, .timestamp(let t)): times[row] = t
        case (.timestamp, .number(let d)) where d.isFinite: times[row] = Int64(d)
        case (.string, .string(let s)): codes[row] = code(s)
        case (.list, .list(let l)): lists[row] = l.map { code($0) }
        case (.list, .string(let s)): lists[row] = [code(s)]
        default: break
        }
    }

    /// The finished column.
    public func finish() -> AttributeColumn {
        switch type {
        case .number: return .number(numbers)
        case .bool: return .bool(bools)
        case .timestamp: return .timestamp(times)
        case .string: return .string(codes: codes, dictionary: dictionary)
        case .list:
            var offsets: [Int32] = [0]
            offsets.reserveCapacity(lists.count + 1)
            var flat: [Int32] = []
            var isNull: [Bool] = []
            isNull.reserveCapacity(lists.count)
            for l in lists {
                flat.append(contentsOf: l ?? [])
                offsets.append(Int32(flat.count))
                isNull.append(l == nil)
            }
            return .list(offsets: offsets, codes: flat, dictionary: dictionary, isNull: isNull)
        }
    }
}
