import Foundation
import Testing

@testable import HeraldCore

/// The fixture file Tests/Fixtures/experiments/proportion_tests.json, written by make_fixtures.py with scipy.
struct ProportionFixtures: Decodable {
    struct Arm: Decodable {
        let id: String
        let sent: Int
        let successes: Int
    }
    struct Statistic: Decodable {
        let statistic: Double
        let pValue: Double
        let dof: Int?

        enum CodingKeys: String, CodingKey {
            case statistic, dof
            case pValue = "p_value"
        }
    }
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let confidence: Double
        let arms: [Arm]
        let testable: Bool
        let z: Statistic?
        let chi2: Statistic?
        let significant: Bool
        let decisions: [String: String?]
        var testDescription: String { name }
        var armStats: [ArmStats] { arms.map { ArmStats(id: $0.id, sent: $0.sent, successes: $0.successes) } }
        var tested: [ArmStats] { armStats.filter { $0.sent > 0 } }
    }
    let cases: [Case]

    /// The cases, read from the repository (found from this file's path, symlinks resolved).
    static let all: [Case] = {
        let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("Tests/Fixtures/experiments/proportion_tests.json")
        do {
            return try JSONDecoder().decode(ProportionFixtures.self, from: Data(contentsOf: url)).cases
        } catch {
            Issue.record("cannot read \(url.path): \(error)")
            return []
        }
    }()
}

/// Relative agreement to `relative`, with an absolute floor for values that are (nearly) zero.
func agrees(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-12) -> Bool {
    abs(a - b) <= max(relative * max(abs(a), abs(b)), absolute)
}

@Suite("Experiment statistics against scipy")
struct ExperimentStatisticsTests {
    @Test("the fixture file has the cases make_fixtures.py writes")
    func fixturesLoad() {
        #expect(ProportionFixtures.all.count >= 30)
        #expect(ProportionFixtures.all.contains { !$0.testable })
    }

    @Test(
        "z-test statistic and p-value match scipy", arguments: ProportionFixtures.all.filter { $0.z != nil })
    func zTest(_ c: ProportionFixtures.Case) throws {
        let want = try #require(c.z)
        let got = try ProportionTest.zTest(c.tested[0], c.tested[1])
        #expect(agrees(got.statistic, want.statistic), "z \(got.statistic) vs scipy \(want.statistic)")
        // p-values are compared relatively down to 1e-300 (scipy's norm.sf and erfc agree on tiny tails).
        #expect(agrees(got.pValue, want.pValue, absolute: 1e-300), "p \(got.pValue) vs scipy \(want.pValue)")
        #expect(got.degreesOfFreedom == 1)
    }

    @Test(
        "chi-square statistic and p-value match scipy",
        arguments: ProportionFixtures.all.filter { $0.chi2 != nil })
    func chiSquare(_ c: ProportionFixtures.Case) throws {
        let want = try #require(c.chi2)
        let got = try ProportionTest.chiSquare(c.tested)
        #expect(agrees(got.statistic, want.statistic), "χ² \(got.statistic) vs scipy \(want.statistic)")
        #expect(agrees(got.pValue, want.pValue, absolute: 1e-300), "p \(got.pValue) vs scipy \(want.pValue)")
        #expect(got.degreesOfFreedom == want.dof)
    }

    @Test("the decision's winner for each if_no_winner", arguments: ProportionFixtures.all)
    func decisions(_ c: ProportionFixtures.Case) throws {
        for rule in WinnerTest.IfNoWinner.allCases {
            let d = try WinnerTest.decide(arms: c.armStats, confidence: c.confidence, ifNoWinner: rule)
            let want = try #require(c.decisions[rule.rawValue], "no expectation for \(rule)")
            #expect(d.winner == want, "\(rule): \(d.reason)")
            #expect(d.significant == c.significant, "\(rule): \(d.reason)")
            #expect((d.test != nil) == c.testable)
            #expect(d.arms == c.armStats)
            if let z = c.z {
                #expect(d.test?.kind == .zTest)
                #expect(agrees(d.pValue ?? -1, z.pValue, absolute: 1e-300))
            } else if let chi2 = c.chi2 {
                #expect(d.test?.kind == .chiSquare)
                #expect(d.degreesOfFreedom == chi2.dof)
            }
        }
    }

    @Test("two arms: z squared is the 2×2 chi-square")
    func zSquaredIsChiSquare() throws {
        for c in ProportionFixtures.all where c.z != nil {
            let z = try ProportionTest.zTest(c.tested[0], c.tested[1])
            let chi2 = try ProportionTest.chiSquare(c.tested)
            #expect(agrees(z.statistic * z.statistic, chi2.statistic, relative: 1e-12), "\(c.name)")
        }
    }
}

@Suite("Special functions")
struct ExperimentSpecialFunctionTests {
    @Test("log Γ matches the C library and exact factorials")
    func logGamma() {
        var factorial = 1.0
        for n in 1...30 {
            if n > 1 { factorial *= Double(n - 1) }
            #expect(agrees(SpecialFunctions.logGamma(Double(n)), log(factorial), absolute: 1e-14), "Γ(\(n))")
        }
        // Γ(1/2) = √π.
        #expect(agrees(SpecialFunctions.logGamma(0.5), 0.5 * log(Double.pi), relative: 1e-14))
        for x in [0.001, 0.1, 0.3, 0.7, 1.5, 2.5, 7.25, 42.0, 123.456, 1e4, 1e6] {
            #expect(agrees(SpecialFunctions.logGamma(x), lgamma(x), relative: 1e-13), "x=\(x)")
        }
    }

    /// Q(n, x) = e^(−x) Σ_{k<n} x^k / k! for whole n; Q(1/2, x) = erfc(√x): closed forms on both sides of a + 1.
    @Test("Q(a, x) matches closed forms on both the series and the continued-fraction side")
    func incompleteGamma() {
        for n in 1...8 {
            for x in [0.01, 0.5, 1.0, 2.0, 4.5, 8.0, 15.0, 40.0, 200.0] {
                var term = 1.0
                var sum = 1.0
                for k in stride(from: 1, to: n, by: 1) {
                    term *= x / Double(k)
                    sum += term
                }
                let exact = exp(-x) * sum
                #expect(
                    agrees(SpecialFunctions.regularizedGammaQ(Double(n), x), exact, relative: 1e-12),
                    "n=\(n) x=\(x)")
            }
        }
        for x in [1e-6, 0.01, 0.4, 1.0, 1.6, 3.0, 10.0, 50.0, 300.0] {
            #expect(
                agrees(SpecialFunctions.regularizedGammaQ(0.5, x), erfc(x.squareRoot()), relative: 1e-12),
                "x=\(x)")
            #expect(
                agrees(SpecialFunctions.regularizedGammaP(0.5, x), erf(x.squareRoot()), relative: 1e-12),
                "x=\(x)")
        }
        #expect(SpecialFunctions.regularizedGammaQ(3, 0) == 1)
        #expect(SpecialFunctions.chiSquareSurvival(0, degreesOfFreedom: 4) == 1)
        // The 95th percentile of χ²(1) and χ²(2).
        #expect(
            agrees(
                SpecialFunctions.chiSquareSurvival(3.841458820694124, degreesOfFreedom: 1), 0.05,
                relative: 1e-12))
        #expect(
            agrees(
                SpecialFunctions.chiSquareSurvival(5.991464547107979, degreesOfFreedom: 2), 0.05,
                relative: 1e-12))
    }
}
