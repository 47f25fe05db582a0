import Foundation
import HeraldCore

/// One simulated campaign: `sends` messages, each to an arm chosen by a policy, each a success with its
/// arm's true rate; the policy sees the counts as they were at the last update.
struct Simulation {
    /// How arms are chosen.
    enum Policy: CustomStringConvertible {
        /// Every arm equally often (what a plain A/B split does).
        case uniform
        /// `ThompsonBandit` with this floor per arm.
        case thompson(floor: Double)

        var description: String {
            switch self {
            case .uniform: return "uniform"
            case .thompson(let floor): return "thompson, floor \(Int((floor * 100).rounded()))%"
            }
        }
    }

    /// The result of one run.
    struct Outcome {
        /// Successes over the whole run.
        var successes: Int
        /// Σ true rate of the chosen arm: the expected successes of the choices made, without outcome noise.
        var expected: Double
        /// Sends per arm.
        var perArm: [Int]
    }

    let rates: [Double]
    let sends: Int
    /// The posterior is refreshed every `batch` sends (1 = after every send; larger mimics a metric that
    /// arrives later, as opens and clicks do).
    let batch: Int

    func run(_ policy: Policy, seed: UInt64) -> Outcome {
        // Separate streams: the policy's draws never shift which sends succeed.
        var choices = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        var world = SeededGenerator(seed: seed &* 0xBF58_476D_1CE4_E5B9 &+ 2)
        var live = rates.indices.map { ArmStats(id: "arm\($0)", sent: 0, successes: 0) }
        var seen = live
        var outcome = Outcome(successes: 0, expected: 0, perArm: Array(repeating: 0, count: rates.count))
        for send in 0..<sends {
            if send % batch == 0 { seen = live }
            let arm: Int
            switch policy {
            case .uniform: arm = send % rates.count
            case .thompson(let floor):
                arm = ThompsonBandit(floor: floor).chooseArm(stats: seen, using: &choices)
            }
            live[arm].sent += 1
            outcome.perArm[arm] += 1
            outcome.expected += rates[arm]
            if world.unit() < rates[arm] {
                live[arm].successes += 1
                outcome.successes += 1
            }
        }
        return outcome
    }

    /// The best reward a policy that gives every arm at least `floor` of the traffic can expect, as a
    /// fraction of always sending the best arm: the other arms get exactly `floor` each, the best the rest.
    static func ceiling(rates: [Double], floor: Double) -> Double {
        let best = rates.max() ?? 0
        let k = Double(rates.count)
        let explore = min(1, k * floor)
        let forced = explore / k * rates.reduce(0, +)
        return (forced + (1 - explore) * best) / best
    }
}
