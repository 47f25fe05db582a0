import Foundation

/// Samples from the distributions the bandit needs, drawn from any `RandomNumberGenerator`, so that a
/// seeded generator (`SeededGenerator`) makes every draw reproducible.
public enum RandomVariates {
    /// A uniform double in (0, 1): never 0, so that its logarithm is finite.
    public static func openUnit(using rng: inout some RandomNumberGenerator) -> Double {
        (Double(rng.next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A uniform integer in 0..<count, from the top 53 bits (fixed here rather than in the standard library,
    /// so that a seed gives the same choices on every Swift version).
    public static func index(below count: Int, using rng: inout some RandomNumberGenerator) -> Int {
        precondition(count > 0, "index(below:) needs a positive count")
        return min(Int(Double(rng.next() >> 11) * 0x1.0p-53 * Double(count)), count - 1)
    }

    /// A standard normal sample (Box–Muller, one of the pair).
    public static func normal(using rng: inout some RandomNumberGenerator) -> Double {
        let u1 = openUnit(using: &rng)
        let u2 = openUnit(using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) sample by Marsaglia and Tsang's squeeze method (2000); shapes below 1 are boosted
    /// with Gamma(a) = Gamma(a + 1) · U^(1/a).
    public static func gamma(shape: Double, using rng: inout some RandomNumberGenerator) -> Double {
        precondition(shape > 0, "gamma needs a positive shape")
        if shape < 1 {
            let boost = pow(openUnit(using: &rng), 1 / shape)
            return gamma(shape: shape + 1, using: &rng) * boost
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0
            var v = 0.0
            repeat {
                x = normal(using: &rng)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = openUnit(using: &rng)
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if log(u) < 0.5 * x2 + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(alpha, beta) sample as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta).
    public static func beta(_ alpha: Double, _ beta: Double, using rng: inout some RandomNumberGenerator)
        -> Double
    {
        let x = gamma(shape: alpha, using: &rng)
        let y = gamma(shape: beta, using: &rng)
        return x / (x + y)
    }
}
