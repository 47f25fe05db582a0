import Hummingbird

extension HTTPFields {
    /// The value of a header named at run time (case-insensitive); nil for an invalid name.
    subscript(named name: String) -> String? {
        guard let n = HTTPFields.Element.Name(name) else { return nil }
        return self[n]
    }
}
