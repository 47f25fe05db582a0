import HeraldCore
import HeraldLedger

extension AttributeColumnBuilder {
    /// Stores row `row`'s value read from column 3 of `r`, stored with type code `stored`.
    mutating func set(row: Int, type stored: Int64, _ r: RawStatement) {
        let value: Value
        switch stored {
        case StoredAttribute.number: value = .number(r.double(3))
        case StoredAttribute.bool: value = .bool(r.int64(3) != 0)
        case StoredAttribute.timestamp: value = .timestamp(r.int64(3))
        case StoredAttribute.string: value = .string(r.text(3) ?? "")
        case StoredAttribute.list: value = r.text(3).flatMap(JSONWriter.parseStringArray).map(Value.list) ?? .null
        default: value = .null
        }
        set(row: row, value)
    }
}
