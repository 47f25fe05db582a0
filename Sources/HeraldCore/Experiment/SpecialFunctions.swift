import Foundation

/// The distribution tails the winner tests need, in double precision (docs/experiments.md).
///
/// Written here rather than taken from the C library: `lgamma` writes the process-wide `signgam`, and the
/// chi-square tail needs the regularized incomplete gamma function, which libm does not have.
public enum SpecialFunctions {
    /// ln Γ(x) for x > 0: the Lanczos approximation (g = 607/128, 15 terms, about 1e-15 relative).
    public static func logGamma(_ x: Double) -> Double {
        precondition(x > 0, "logGamma needs x > 0")
        if x < 0.5 {
            // Γ(x) = Γ(x + 1) / x keeps the approximation in the range where it is accurate.
            return logGamma(x + 1) - log(x)
        }
        var sum = 0.0
        for i in stride(from: lanczos.count - 1, through: 1, by: -1) {
            sum += lanczos[i] / (x + Double(i))
        }
        sum += lanczos[0]
        let t = x + lanczosG + 0.5
        return (x + 0.5) * log(t) - t + halfLog2Pi + log(sum / x)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function, for a > 0, x ≥ 0.
    ///
    /// The power series for x < a + 1 (where it converges fast and P is not close to 1), the
    /// continued fraction (modified Lentz) otherwise, so that small tails keep their relative precision.
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        precondition(a > 0 && x >= 0, "regularizedGammaQ needs a > 0 and x ≥ 0")
        if x == 0 { return 1 }
        if x.isInfinite { return 0 }
        if x < a + 1 { return 1 - lowerSeries(a, x) }
        return upperContinuedFraction(a, x)
    }

    /// P(a, x) = 1 − Q(a, x), the regularized lower incomplete gamma function.
    public static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        precondition(a > 0 && x >= 0, "regularizedGammaP needs a > 0 and x ≥ 0")
        if x == 0 { return 0 }
        if x.isInfinite { return 1 }
        if x < a + 1 { return lowerSeries(a, x) }
        return 1 - upperContinuedFraction(a, x)
    }

    /// P(X ≥ x) for X chi-square distributed with `degreesOfFreedom` degrees of freedom.
    public static func chiSquareSurvival(_ x: Double, degreesOfFreedom: Int) -> Double {
        precondition(degreesOfFreedom > 0, "chi-square needs at least one degree of freedom")
        if x <= 0 { return 1 }
        return regularizedGammaQ(Double(degreesOfFreedom) / 2, x / 2)
    }

    /// P(|Z| ≥ |z|) for a standard normal Z: the two-sided p-value of a z statistic.
    public static func normalTwoSided(_ z: Double) -> Double {
        erfc(abs(z) / 2.0.squareRoot())
    }

    // MARK: - Internals

    private static let maxIterations = 10_000
    private static let epsilon = 1e-16
    private static let tiny = 1e-300

    /// x^a e^(−x) / Γ(a), computed in logs so that large arguments do not overflow.
    private static func prefactor(_ a: Double, _ x: Double) -> Double {
        exp(a * log(x) - x - logGamma(a))
    }

    /// P(a, x) by its power series: e^(−x) x^a / Γ(a) · Σ x^n / (a (a+1) … (a+n)).
    private static func lowerSeries(_ a: Double, _ x: Double) -> Double {
        var ap = a
        var term = 1 / a
        var sum = term
        for _ in 0..<maxIterations {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * epsilon { break }
        }
        return min(1, sum * prefactor(a, x))
    }

    /// Q(a, x) by Legendre's continued fraction, evaluated with the modified Lentz method.
    private static func upperContinuedFraction(_ a: Double, _ x: Double) -> Double {
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1...maxIterations {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return min(1, prefactor(a, x) * h)
    }

    private static let lanczosG = 607.0 / 128.0
    private static let halfLog2Pi = 0.5 * log(2 * Double.pi)
    private static let lanczos: [Double] = [
        0.99999999999999709182,
        57.156235665862923517,
        -59.597960355475491248,
        14.136097974741747174,
        -0.49191381609762019978,
        0.33994649984811888699e-4,
        0.46523628927048575665e-4,
        -0.98374475304879564677e-4,
        0.15808870322491248884e-3,
        -0.21026444172410488319e-3,
        0.21743961811521264320e-3,
        -0.16431810653676389022e-3,
        0.84418223983852743293e-4,
        -0.26190838401581408670e-4,
        0.36899182659531622704e-5,
    ]
}
