import Foundation
import HeraldCore

// The bandit benchmark (docs/experiments.md): Thompson sampling against uniform allocation on arms with
// known rates, as a share of the reward of always sending the best arm (best rate × sends).
//   bandit-bench [--sends N] [--seeds S] [--batch B]     (defaults: 100000, 20, 1)

var sends = 100_000
var seeds = 20
var batches = [1, 1000]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next().flatMap(Int.init), value > 0 else {
        FileHandle.standardError.write(Data("usage: bandit-bench [--sends N] [--seeds S] [--batch B]\n".utf8))
        exit(2)
    }
    switch flag {
    case "--sends": sends = value
    case "--seeds": seeds = value
    case "--batch": batches = [value]
    default:
        FileHandle.standardError.write(Data("bandit-bench: unknown option \(flag)\n".utf8))
        exit(2)
    }
}

let rateSets: [(String, [Double])] = [
    ("3 arms, 3.0/4.0/5.0%", [0.030, 0.040, 0.050]),
    ("3 arms, close: 4.0/4.2/4.5%", [0.040, 0.042, 0.045]),
    ("2 arms, 3.0/5.0%", [0.030, 0.050]),
    ("2 arms, close: 4.0/4.4%", [0.040, 0.044]),
]
let policies: [Simulation.Policy] = [
    .uniform, .thompson(floor: 0.10), .thompson(floor: 0.05), .thompson(floor: 0),
]

func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }

print("\(sends) sends per run, \(seeds) seeds; reward = successes / (best rate × sends)")
print("")
print(
    "| rates | posterior update | policy | reward (mean) | min over seeds | expected reward | "
        + "best arm's share | ceiling with the floor |")
print("|---|---|---|---|---|---|---|---|")
for (name, rates) in rateSets {
    let best = rates.max()!
    let bestIndex = rates.firstIndex(of: best)!
    for batch in batches {
        let sim = Simulation(rates: rates, sends: sends, batch: batch)
        for policy in policies {
            var rewards: [Double] = []
            var expected = 0.0
            var bestShare = 0.0
            for seed in 1...seeds {
                let out = sim.run(policy, seed: UInt64(seed))
                rewards.append(Double(out.successes) / (best * Double(sends)))
                expected += out.expected / (best * Double(sends)) / Double(seeds)
                bestShare += Double(out.perArm[bestIndex]) / Double(sends) / Double(seeds)
            }
            let mean = rewards.reduce(0, +) / Double(rewards.count)
            let ceiling: String
            switch policy {
            case .uniform: ceiling = "—"
            case .thompson(let floor): ceiling = percent(Simulation.ceiling(rates: rates, floor: floor))
            }
            let update = batch == 1 ? "every send" : "every \(batch) sends"
            print(
                "| \(name) | \(update) | \(policy) | \(percent(mean)) | \(percent(rewards.min()!)) | "
                    + "\(percent(expected)) | \(percent(bestShare)) | \(ceiling) |")
        }
    }
}
