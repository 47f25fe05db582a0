import Foundation
import Testing

@testable import HeraldCore

@Suite("Thompson bandit")
struct ExperimentBanditTests {
    /// Arm a is far behind b and c on a lot of data: pure Thompson would (almost) never pick it.
    private let lopsided = [
        ArmStats(id: "a", sent: 20000, successes: 200),
        ArmStats(id: "b", sent: 20000, successes: 600),
        ArmStats(id: "c", sent: 20000, successes: 1000),
    ]

    private func shares(_ bandit: ThompsonBandit, _ stats: [ArmStats], picks: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var counts = [Int](repeating: 0, count: stats.count)
        for _ in 0..<picks { counts[bandit.chooseArm(stats: stats, using: &rng)] += 1 }
        return counts.map { Double($0) / Double(picks) }
    }

    @Test("every arm gets at least the 10 % floor over 20,000 choices, even a hopeless one")
    func floorHolds() {
        let got = shares(ThompsonBandit(floor: 0.10), lopsided, picks: 20000, seed: 17)
        // A losing arm's expected share is exactly 10 %; 0.0085 is four standard deviations of 20,000 picks.
        for (arm, share) in zip(lopsided, got) {
            #expect(share >= 0.10 - 0.0085, "\(arm.id): \(share)")
        }
        #expect(got[2] > 0.75, "the best arm takes the rest: \(got)")
        // Without the floor the hopeless arm starves: this is what the floor is for.
        let pure = shares(ThompsonBandit(floor: 0), lopsided, picks: 20000, seed: 17)
        #expect(pure[0] < 0.001, "\(pure)")
    }

    @Test("more arms than 1/floor: every pick is uniform")
    func floorTooLargeForArms() {
        let bandit = ThompsonBandit(floor: 0.25)
        let five = (0..<5).map { ArmStats(id: "v\($0)", sent: 1000, successes: 10 * $0) }
        #expect(bandit.explorationShare(arms: 5) == 1)
        for share in shares(bandit, five, picks: 20000, seed: 3) {
            #expect(abs(share - 0.2) < 0.012, "\(share)")
        }
    }

    @Test("converges on the best arm when rates are clearly different (simulated sends)")
    func converges() {
        let rates = [0.02, 0.08, 0.04]
        var stats = rates.indices.map { ArmStats(id: "arm\($0)", sent: 0, successes: 0) }
        var rng = SeededGenerator(seed: 42)
        var world = SeededGenerator(seed: 4242)
        let bandit = ThompsonBandit(floor: 0.10)
        var lastPicks = [Int](repeating: 0, count: rates.count)
        for send in 0..<20000 {
            let arm = bandit.chooseArm(stats: stats, using: &rng)
            stats[arm].sent += 1
            if world.unit() < rates[arm] { stats[arm].successes += 1 }
            if send >= 15000 { lastPicks[arm] += 1 }
        }
        // The ceiling with two floored arms is 80 %; the last 5,000 picks must be close to it.
        #expect(Double(lastPicks[1]) / 5000 > 0.76, "\(lastPicks)")
        #expect(lastPicks[0] > 0 && lastPicks[2] > 0)
    }

    @Test("the same seed gives the same choices; another seed, others")
    func deterministic() {
        let stats = [ArmStats(id: "a", sent: 50, successes: 5), ArmStats(id: "b", sent: 60, successes: 7)]
        let bandit = ThompsonBandit()
        func run(_ seed: UInt64) -> [Int] {
            var rng = SeededGenerator(seed: seed)
            return (0..<500).map { _ in bandit.chooseArm(stats: stats, using: &rng) }
        }
        #expect(run(9) == run(9))
        #expect(run(9) != run(10))
    }

    @Test("allocation: sums to 1, honours the floor, matches the observed choice frequencies")
    func allocation() {
        let bandit = ThompsonBandit(floor: 0.10)
        let stats = [
            ArmStats(id: "a", sent: 400, successes: 16), ArmStats(id: "b", sent: 400, successes: 20),
            ArmStats(id: "c", sent: 400, successes: 12),
        ]
        var rng = SeededGenerator(seed: 5)
        let alloc = bandit.allocation(stats: stats, samples: 20000, using: &rng)
        #expect(abs(alloc.reduce(0, +) - 1) < 1e-12)
        #expect(alloc.allSatisfy { $0 >= 0.10 })
        let observed = shares(bandit, stats, picks: 20000, seed: 6)
        for (a, o) in zip(alloc, observed) { #expect(abs(a - o) < 0.02, "\(alloc) vs \(observed)") }
        // No data at all: every arm is equally likely.
        let empty = stats.map { ArmStats(id: $0.id, sent: 0, successes: 0) }
        for share in bandit.allocation(stats: empty, samples: 20000, using: &rng) {
            #expect(abs(share - 1.0 / 3) < 0.02)
        }
    }

    @Test(
        "Gamma and Beta samples have the right mean and variance", arguments: [0.3, 1.0, 2.5, 40.0, 5000.0])
    func gammaMoments(shape: Double) {
        var rng = SeededGenerator(seed: UInt64(shape * 1000))
        let n = 100_000
        var sum = 0.0
        var sumSquares = 0.0
        for _ in 0..<n {
            let x = RandomVariates.gamma(shape: shape, using: &rng)
            #expect(x > 0)
            sum += x
            sumSquares += x * x
        }
        let mean = sum / Double(n)
        let variance = sumSquares / Double(n) - mean * mean
        // Gamma(k, 1) has mean and variance k; the mean's standard error is √(k/n).
        #expect(abs(mean - shape) < 5 * (shape / Double(n)).squareRoot(), "mean \(mean)")
        #expect(abs(variance / shape - 1) < 0.05, "variance \(variance)")
    }

    @Test("Beta(3, 7) has mean 0.3 and variance 0.0191")
    func betaMoments() {
        var rng = SeededGenerator(seed: 1)
        let samples = (0..<100_000).map { _ in RandomVariates.beta(3, 7, using: &rng) }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count)
        #expect(abs(mean - 0.3) < 0.002)
        #expect(abs(variance - 21.0 / 1100.0) < 0.0005)
    }
}
