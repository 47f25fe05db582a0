// The send-time benchmark (docs/send-time.md), never a timed test:
//   sendtime-bench quality [--users N] [--weeks W] [--seed S] [--by-kind]
//       best_time against the original model, the population's best hour and a per-user hour-of-week
//       reference, on users with personal rhythms, scored on a held-out week
//   sendtime-bench speed [--users N]
//       one best_time campaign (48 h window) planned in memory over N users, beside local_time
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

func campaign(
    _ strategy: Campaign.SendStrategy, within: Int64 = 86_400, localTime: ClockTime? = nil,
    segment: CompiledSegment
) -> Campaign {
    let text = MessageTemplate.parse("Hi").0
    return Campaign(
        id: "bench", name: "bench", status: .active, topic: "promotions", priority: 50, transactional: false,
        audience: Campaign.Audience(segment: segment), trigger: .api,
        sendTime: Campaign.SendTime(strategy: strategy, within: within, localTime: localTime),
        limits: Campaign.Limits(perUser: Campaign.PerUserLimit(max: 1, per: 30 * 86_400)),
        experiment: nil, conversion: nil,
        message: Campaign.Message(
            channel: .email, fallback: [], email: Campaign.EmailBody(subject: text), sms: text),
        file: "bench.yaml")
}

func compile(_ text: String) -> CompiledSegment {
    let (seg, diags) = SegmentCompiler.compile(
        SegmentSource(text: text, origin: SourceOrigin(file: "bench")), schema: AttributeSchema([:]),
        catalog: .empty)
    guard let seg else { fatalError("\(diags)") }
    return seg
}

let users = Int(argument("--users") ?? "")
switch CommandLine.arguments.dropFirst().first ?? "quality" {
case "speed": Speed.run(users: users ?? 1_000_000)
default:
    Quality.run(
        users: users ?? 20_000, weeks: Int(argument("--weeks") ?? "") ?? 8,
        seed: UInt64(argument("--seed") ?? "") ?? 7, byKind: CommandLine.arguments.contains("--by-kind"))
}
