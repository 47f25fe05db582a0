import ArgumentParser
import Foundation
import HeraldCore

/// `herald sample`: writes the deterministic sample audience as NDJSON files.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate the sample audience (users.ndjson, events.ndjson) from a fixed seed.")

    @Option(help: "Number of users.") var users = 2000
    @Option(help: "Random seed; the same seed and --now give identical files.") var seed: UInt64 = 42
    @Option(help: "Reference time the personas are relative to (ISO-8601 or epoch); default now.")
    var now: String?
    @Option(help: "Scale of events per user (1 ≈ 12 events per user).") var eventScale = 1.0
    @Option(help: "Output folder.") var out = "var/sample"

    func run() throws {
        let reference: Int64
        if let now {
            switch TimestampParser.parse(now) {
            case .success(let ms): reference = ms / 1000
            case .failure(let f): throw ValidationError("--now: \(f.reason)")
            }
        } else {
            reference = Int64(Date().timeIntervalSince1970)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let usersOut = try LineWriter(path: out + "/users.ndjson")
        let eventsOut = try LineWriter(path: out + "/events.ndjson")
        var userCount = 0
        var eventCount = 0
        SampleAudience(users: users, seed: seed, now: reference, eventScale: eventScale).generate(
            user: {
                usersOut.write($0)
                userCount += 1
            },
            event: {
                eventsOut.write($0)
                eventCount += 1
            })
        usersOut.close()
        eventsOut.close()
        Console.out("wrote \(userCount) users to \(out)/users.ndjson and \(eventCount) events to \(out)/events.ndjson")
    }
}
