import HeraldCore

/// The absolute lift of one conversion rate over another, with a 95% confidence interval by Newcombe's
/// hybrid score method (Newcombe 1998, method 10): each rate's Wilson score interval, combined. Unlike the
/// Wald interval it stays inside [-1, 1] and keeps its coverage for small counts and rates near 0 or 1.
public struct ProportionDifference: Sendable, Hashable {
    /// p₁ − p₂.
    public var difference: Double
    /// The lower bound.
    public var low: Double
    /// The upper bound.
    public var high: Double

    /// Groups smaller than this get no interval ("n too small").
    public static let minimumGroup = 30
    /// The standard normal quantile for 95% (two-sided).
    public static let z95 = 1.959963984540054

    /// x₁/n₁ − x₂/n₂ with its interval, or nil when either group is below `minimumGroup`.
    public static func newcombe(_ x1: Int, of n1: Int, minus x2: Int, of n2: Int, z: Double = z95)
        -> ProportionDifference?
    {
        guard n1 >= minimumGroup, n2 >= minimumGroup else { return nil }
        let p1 = Double(x1) / Double(n1)
        let p2 = Double(x2) / Double(n2)
        let (l1, u1) = wilson(x1, of: n1, z: z)
        let (l2, u2) = wilson(x2, of: n2, z: z)
        let d = p1 - p2
        return ProportionDifference(
            difference: d,
            low: d - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot(),
            high: d + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot())
    }

    /// The Wilson score interval of x/n (n > 0).
    public static func wilson(_ x: Int, of n: Int, z: Double = z95) -> (low: Double, high: Double) {
        let n = Double(n)
        let p = Double(x) / n
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return (max(0, center - half), min(1, center + half))
    }
}
