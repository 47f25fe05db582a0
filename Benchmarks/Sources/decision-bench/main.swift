// The decision engine's two benchmarks (issue 3), printed as a small report:
//   decision-bench quality [--users N]   send-time quality: best_time vs fixed 10:00 vs the population's best hour
//   decision-bench scale [--users N]     one campaign planned over N users (segment, consent, caps, best_time)
// Never a timed test: numbers for the README, measured on the machine at hand.
import Foundation
import HeraldCore

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func seconds<T>(_ body: () -> T) -> (T, Double) {
    let t = DispatchTime.now().uptimeNanoseconds
    let r = body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
}

/// CPU seconds used by this process so far (all threads).
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident set size of this process, MiB.
func peakMiB() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_maxrss) / 1024
}

func template(_ s: String) -> MessageTemplate { MessageTemplate.parse(s).0 }

func campaign(
    _ strategy: Campaign.SendStrategy, within: Int64, localTime: ClockTime? = nil, segment: CompiledSegment,
    experiment: Campaign.Experiment? = nil
) -> Campaign {
    Campaign(
        id: "bench", name: "bench", status: .active, topic: "promotions", priority: 50, transactional: false,
        audience: Campaign.Audience(segment: segment), trigger: .api,
        sendTime: Campaign.SendTime(strategy: strategy, within: within, localTime: localTime),
        limits: Campaign.Limits(perUser: Campaign.PerUserLimit(max: 1, per: 30 * 86_400)),
        experiment: experiment,
        conversion: nil,
        message: Campaign.Message(
            channel: .email, fallback: [.sms],
            email: Campaign.EmailBody(subject: template("Hi {{first_name|there}}")),
            sms: template("Hi {{first_name|there}}")),
        file: "bench.yaml")
}

func compile(_ text: String) -> CompiledSegment {
    let (seg, diags) = SegmentCompiler.compile(
        SegmentSource(text: text, origin: SourceOrigin(file: "bench")),
        schema: AttributeSchema(["country": .string]),
        catalog: .empty)
    guard let seg else { fatalError("\(diags)") }
    return seg
}

let mode = CommandLine.arguments.dropFirst().first ?? "quality"
switch mode {
case "scale": Scale.run(users: Int(argument("--users") ?? "") ?? 1_000_000)
default: Quality.run(users: Int(argument("--users") ?? "") ?? 20_000)
}
