import Foundation

/// Reads the content of a `*_file` secret; errors name the field and path, never the content.
public enum SecretFile {
    /// Why a secret could not be read.
    public struct Failure: Error, Sendable, Hashable {
        /// The problem, naming the field and path.
        public var diagnostic: Diagnostic
    }

    /// The file's content without trailing newlines, or a failure naming `field`.
    public static func read(_ path: String, field: String) -> Result<String, Failure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): cannot read '\(path)'")))
        }
        guard var text = String(data: data, encoding: .utf8) else {
            return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): '\(path)' is not UTF-8 text")))
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { return .failure(Failure(diagnostic: Diagnostic(at: nil, "\(field): '\(path)' is empty"))) }
        return .success(text)
    }
}
