import Foundation
import HeraldCore
import HeraldDelivery
import Synchronization

// The engine's side of Benchmarks/Delivery/run.sh: `delivery-bench webhooks|smtp`, configured by
// the HERALD_BENCH_* variables the script sets. It measures and prints; nothing here is a test.

struct DeliveryBenchmark {
    static let env = ProcessInfo.processInfo.environment

    func int(_ name: String, _ fallback: Int) -> Int { Self.env[name].flatMap(Int.init) ?? fallback }

    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "set \(name)" }
    }

    func required(_ name: String) throws -> String {
        guard let v = Self.env[name] else { throw Missing(name: name) }
        return v
    }

    func report(_ line: String) {
        print(line)
        if let out = Self.env["HERALD_BENCH_OUT"], let handle = FileHandle(forWritingAtPath: out) {
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            handle.closeFile()
        }
    }

    /// Runs `count` operations with `concurrency` workers; returns (ok, failed, seconds).
    func drive(count: Int, concurrency: Int, _ operation: @escaping @Sendable (Int) async -> Bool) async -> (Int, Int, Double) {
        let start = ContinuousClock.now
        let next = Counter()
        let (ok, failed) = await withTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var ok = 0, failed = 0
                    while let i = next.take(below: count) {
                        if await operation(i) { ok += 1 } else { failed += 1 }
                    }
                    return (ok, failed)
                }
            }
            return await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        let elapsed = ContinuousClock.now - start
        return (ok, failed, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    func webhooksToNginx() async throws {
        let url = try required("HERALD_BENCH_WEBHOOK_URL")
        let count = int("HERALD_BENCH_COUNT", 20_000), concurrency = int("HERALD_BENCH_CONCURRENCY", 64)
        let body = Array(try Data(contentsOf: URL(fileURLWithPath: try required("HERALD_BENCH_BODY"))))
        let engine = CurlEngine(maxConnections: concurrency * 2)
        defer { engine.shutdown() }
        let hook = WebhookTransport(name: "bench", url: url, secrets: [WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!],
                                    engine: engine)
        _ = await drive(count: concurrency * 4, concurrency: concurrency) { i in
            (try? await hook.deliver(id: "warm\(i)", body: body, timestamp: 1)) != nil
        }
        let (ok, failed, seconds) = await drive(count: count, concurrency: concurrency) { i in
            (try? await hook.deliver(id: "msg\(i)", body: body, timestamp: 1_795_432_530)) != nil
        }
        report(String(format: "engine webhooks: %d ok, %d failed in %.2f s = %.0f/s (concurrency %d)",
                      ok, failed, seconds, Double(ok) / seconds, concurrency))
    }

    func mailToSmtpSink() async throws {
        let url = try required("HERALD_BENCH_SMTP_URL")
        let count = int("HERALD_BENCH_COUNT", 20_000), concurrency = int("HERALD_BENCH_CONCURRENCY", 20)
        let engine = CurlEngine(maxConnections: concurrency * 2)
        defer { engine.shutdown() }
        let smtp = EmailTransport(url: url, insecure: true, engine: engine)
        let from = Mailbox(parsing: "Shop <news@shop.example>")!, to = Mailbox(parsing: "ann@example.org")!
        let text = String(repeating: "Your cart is waiting. ", count: 20)
        let reused = LockedCounter()
        let (ok, failed, seconds) = await drive(count: count, concurrency: concurrency) { i in
            let message = EmailMessage(from: from, to: to, subject: "Bench \(i)", text: text, idempotencyKey: "bench:\(i)",
                                       date: 1_795_432_530)
            guard let reply = try? await smtp.send(message) else { return false }
            if reply.reusedConnection { _ = reused.next(below: .max) }
            return true
        }
        let reuses = reused.next(below: .max) ?? 0
        let label = Self.env["HERALD_BENCH_LABEL"].map { " (\($0))" } ?? ""
        report(String(format: "engine smtp%@: %d ok, %d failed in %.2f s = %.0f/s (concurrency %d, %d on reused connections)",
                      label, ok, failed, seconds, Double(ok) / seconds, concurrency, reuses))
    }
}

/// A shared ticket counter for the benchmark workers.
final class Counter: Sendable {
    private let value = LockedCounter()
    func take(below limit: Int) -> Int? { value.next(below: limit) }
}

/// The lock behind `Counter`.
final class LockedCounter: Sendable {
    private let state = Mutex(0)
    func next(below limit: Int) -> Int? {
        state.withLock { n in
            guard n < limit else { return nil }
            defer { n += 1 }
            return n
        }
    }
}

switch CommandLine.arguments.dropFirst().first {
case "webhooks": try await DeliveryBenchmark().webhooksToNginx()
case "smtp": try await DeliveryBenchmark().mailToSmtpSink()
default:
    FileHandle.standardError.write(Data("usage: delivery-bench webhooks|smtp (see Benchmarks/Delivery/run.sh)\n".utf8))
    exit(64)
}
