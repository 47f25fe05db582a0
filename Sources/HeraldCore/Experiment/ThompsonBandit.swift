import Foundation

/// Thompson sampling over an experiment's arms with a guaranteed minimum share of traffic per arm
/// (docs/experiments.md).
///
/// Each arm's rate has the posterior Beta(1 + successes, 1 + failures) (a uniform prior). The floor is
/// enforced by mixing: with probability `k · floor` the arm is picked uniformly at random, otherwise by a
/// Thompson draw (the arm whose sampled rate is highest). Every arm is therefore chosen with probability
/// at least `floor`, exactly `floor` when Thompson never picks it, whatever the counts say. With more
/// arms than `1 / floor` the floor cannot hold for all of them and every pick is uniform (1/k each).
public struct ThompsonBandit: Sendable, Hashable {
    /// The minimum probability with which each arm is chosen, a fraction (0.10 is 10 %).
    public let floor: Double

    /// A bandit whose arms each get at least `floor` of the traffic; `floor` must be in 0...1.
    public init(floor: Double = 0.10) {
        precondition(floor >= 0 && floor <= 1, "the bandit's floor is a fraction in 0...1")
        self.floor = floor
    }

    /// The share of picks made uniformly at random to honour the floor: k · floor, at most 1.
    public func explorationShare(arms: Int) -> Double {
        min(1, Double(arms) * floor)
    }

    /// The index of the arm for the next send.
    public func chooseArm(stats: [ArmStats], using rng: inout some RandomNumberGenerator) -> Int {
        precondition(!stats.isEmpty, "the bandit needs at least one arm")
        let explore = explorationShare(arms: stats.count)
        if explore > 0, RandomVariates.openUnit(using: &rng) < explore {
            return RandomVariates.index(below: stats.count, using: &rng)
        }
        return thompsonDraw(stats: stats, using: &rng)
    }

    /// Pure Thompson sampling, without the floor: the arm whose posterior sample is highest (the first
    /// listed among equal samples).
    public func thompsonDraw(stats: [ArmStats], using rng: inout some RandomNumberGenerator) -> Int {
        precondition(!stats.isEmpty, "the bandit needs at least one arm")
        var best = 0
        var bestSample = -Double.infinity
        for (i, arm) in stats.enumerated() {
            let successes = Double(max(0, arm.successes))
            let failures = Double(max(0, arm.sent - arm.successes))
            let sample = RandomVariates.beta(1 + successes, 1 + failures, using: &rng)
            if sample > bestSample {
                best = i
                bestSample = sample
            }
        }
        return best
    }

    /// Each arm's probability of being chosen next, for display: the floor's uniform share exactly, plus
    /// the Thompson share estimated from `samples` posterior draws.
    public func allocation(
        stats: [ArmStats], samples: Int = 10_000, using rng: inout some RandomNumberGenerator
    ) -> [Double] {
        guard !stats.isEmpty else { return [] }
        let explore = explorationShare(arms: stats.count)
        var wins = [Int](repeating: 0, count: stats.count)
        if explore < 1 {
            for _ in 0..<max(1, samples) { wins[thompsonDraw(stats: stats, using: &rng)] += 1 }
        }
        let draws = Double(max(1, samples))
        return wins.map { explore / Double(stats.count) + (1 - explore) * Double($0) / draws }
    }
}
