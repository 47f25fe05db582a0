import ArgumentParser
import Foundation
import HeraldCore

/// `--config PATH`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "herald.yaml to use (else $HERALD_CONFIG, ./herald.yaml, /etc/herald/herald.yaml).")
    var config: String?
}

/// Output format: a table for people, JSON lines for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Parses `--at TIME` (ISO-8601 with offset, or epoch) into epoch seconds; nil means now.
func parseAt(_ text: String?) throws -> Int64 {
    guard let text else { return Int64(Date().timeIntervalSince1970) }
    switch TimestampParser.parse(text) {
    case .success(let ms): return ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    case .failure(let f): throw ValidationError("--at '\(text)': \(f.reason)")
    }
}

/// Prints diagnostics to stderr, errors last-line summarised; returns true when any is an error.
@discardableResult
func report(_ diagnostics: [Diagnostic]) -> Bool {
    for d in diagnostics { Console.err(d.description) }
    let errors = diagnostics.filter(\.isError).count
    let warnings = diagnostics.filter { $0.severity == .warning }.count
    if errors > 0 || warnings > 0 {
        Console.err("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
    }
    return errors > 0
}

/// Refuses a user id argument outside the id alphabet (`UserID`, docs/api.md) as a usage error (exit 64).
func checkUserArgument(_ user: String, _ name: String = "USER") throws {
    if let problem = UserID.problem(user) {
        throw ValidationError("\(name) '\(VisibleText.escape(user))' \(problem)")
    }
}
