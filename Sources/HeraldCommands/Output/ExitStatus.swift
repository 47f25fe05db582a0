import ArgumentParser

/// The exit codes of docs/cli.md (sysexits).
enum ExitStatus {
    /// Bad command-line usage.
    static let usage = ExitCode(64)
    /// Invalid input; diagnostics were printed.
    static let invalidInput = ExitCode(65)
    /// A service (the store, a provider) is unavailable.
    static let unavailable = ExitCode(69)
    /// An internal error.
    static let internalError = ExitCode(70)
}

/// An error that already told the user what went wrong and carries the exit code to use.
struct ReportedFailure: Error {
    /// The code the process exits with.
    var code: ExitCode
}
