import Foundation
import HeraldDelivery
import Synchronization

// The engine's side of Benchmarks/Push/run.sh: N pushes through APNsSender (ES256 provider token, one HTTP/2
// connection, many streams) to the local APNs server the script started, configured by the HERALD_BENCH_*
// variables the script sets. It measures and prints; nothing here is a test.

let env = ProcessInfo.processInfo.environment

func setting(_ name: String) -> String {
    guard let value = env[name] else {
        FileHandle.standardError.write(Data("push-bench: set \(name) (see Benchmarks/Push/run.sh)\n".utf8))
        exit(64)
    }
    return value
}

func report(_ line: String) {
    print(line)
    if let out = env["HERALD_BENCH_OUT"], let handle = FileHandle(forWritingAtPath: out) {
        handle.seekToEndOfFile()
        handle.write(Data((line + "\n").utf8))
        handle.closeFile()
    }
}

/// User plus system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// A shared ticket counter for the workers.
final class Tickets: Sendable {
    private let next = Mutex(0)
    func take(below limit: Int) -> Int? {
        next.withLock { n in
            guard n < limit else { return nil }
            defer { n += 1 }
            return n
        }
    }
}

/// The push every device gets: the same content, a ledger key and a device token of fixed width per push, so
/// every body and path has the size of the one the script hands to h2load and aioapns.
let content = PushContent(title: "You left something behind", body: "Ben, your cart is waiting.",
                          data: ["campaign": "cart-abandoned"], badge: 1, sound: "default")
func key(_ i: Int) -> String { "bench:" + String(format: "%08d", i) }
func token(_ i: Int) -> String { String(format: "%064x", i + 1) }

/// Sends `count` pushes from `concurrency` tasks; returns (ok, failures by reason, seconds).
func drive(_ sender: APNsSender, from first: Int, count: Int, concurrency: Int) async -> (Int, [String: Int], Double) {
    let tickets = Tickets()
    let start = ContinuousClock.now
    let (ok, failed) = await withTaskGroup(of: (Int, [String: Int]).self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var ok = 0
                var failed: [String: Int] = [:]
                while let n = tickets.take(below: count) {
                    let i = first + n
                    do throws(PushError) {
                        _ = try await sender.send(content, token: token(i), key: key(i))
                        ok += 1
                    } catch {
                        failed["\(error.reason): \(error.message)", default: 0] += 1
                    }
                }
                return (ok, failed)
            }
        }
        return await group.reduce((0, [String: Int]())) { ($0.0 + $1.0, $0.1.merging($1.1, uniquingKeysWith: +)) }
    }
    let elapsed = ContinuousClock.now - start
    return (ok, failed, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

switch CommandLine.arguments.dropFirst().first {
case "body":
    // The size of the engine's payload, so the script makes the other clients' body the same size.
    print(PushSender.size(of: content, key: key(0), for: .apns).bytes)
case "apns":
    let count = Int(env["HERALD_BENCH_COUNT"] ?? "") ?? 20_000
    let concurrency = Int(env["HERALD_BENCH_CONCURRENCY"] ?? "") ?? 100
    let label = env["HERALD_BENCH_LABEL"].map { " (\($0))" } ?? ""
    let pem = try String(contentsOfFile: setting("HERALD_BENCH_KEY"), encoding: .utf8)
    let providerToken = try APNsProviderToken(teamID: setting("HERALD_BENCH_TEAM"), keyID: setting("HERALD_BENCH_KID"),
                                              pem: pem, field: "HERALD_BENCH_KEY")
    let settings = APNsSettings(topic: setting("HERALD_BENCH_TOPIC"), url: setting("HERALD_BENCH_URL"),
                                tls: TLSOptions(caFile: setting("HERALD_BENCH_CA")))
    let engine = APNsSender.engine()
    defer { engine.shutdown() }
    let sender = APNsSender(settings: settings, providerToken: providerToken, engine: engine)
    // Warm-up: the connection, its TLS handshake and the first token, as a running daemon has them.
    let (warm, warmFailed, _) = await drive(sender, from: count, count: concurrency, concurrency: concurrency)
    guard warm == concurrency else {
        report("engine\(label): warm-up failed: \(warmFailed)")
        exit(1)
    }
    let cpu = cpuSeconds()
    let (ok, failed, seconds) = await drive(sender, from: 0, count: count, concurrency: concurrency)
    let perPush = (cpuSeconds() - cpu) / Double(max(ok, 1)) * 1e6
    report(String(format: "engine (APNsSender)%@: %d ok, %d failed in %.2f s = %.0f pushes/s, %.1f µs CPU per push (in flight %d)",
                  label, ok, failed.values.reduce(0, +), seconds, Double(ok) / seconds, perPush, concurrency))
    if !failed.isEmpty { report("engine failures: \(failed.sorted { $0.key < $1.key })") }
default:
    FileHandle.standardError.write(Data("usage: push-bench apns|body (see Benchmarks/Push/run.sh)\n".utf8))
    exit(64)
}
