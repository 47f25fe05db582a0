import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a config, campaign or template file was not read.
public enum ConfigFileProblem: Error, Sendable, Hashable {
    /// No such file (or a dangling link): the caller words it.
    case missing
    /// Refused before parsing: a link out of its folder, not a regular file, too large, binary. Names the file,
    /// never shows its content.
    case refused(String)
    /// Not UTF-8 text; located at the first bad byte, without the line's text.
    case notText(Diagnostic)
}

/// Reads the text files Herald's configuration is made of (herald.yaml, campaign files, templates) with the
/// checks every one of them gets before it is parsed: its real path stays inside its folder (a symbolic link
/// may point elsewhere in the folder, never out of it), it is a regular file no larger than its limit, and it
/// is UTF-8 text. See docs/campaigns.md, "Files".
public enum ConfigFileReader {
    /// The largest herald.yaml or campaign file read: 1 MiB (the largest real campaign is a few KiB; a parse
    /// of a YAML file costs hundreds of times its size in memory).
    public static let maxYAMLBytes = 1 << 20
    /// The largest template file read: 256 KiB (mail clients clip HTML bodies from about 100 KB on).
    public static let maxTemplateBytes = 256 << 10

    /// The text of `path` (a `what` such as "campaign file"), at most `limit` bytes; when `folder` is given the
    /// file's real path must lie inside the folder's real path.
    public static func read(
        _ path: String, what: String, limit: Int, inside folder: String? = nil
    ) -> Result<String, ConfigFileProblem> {
        guard let real = realPath(path) else { return .failure(.missing) }
        if let folder {
            guard let base = realPath(folder) else { return .failure(.missing) }
            let prefix = base.hasSuffix("/") ? base : base + "/"
            guard real.hasPrefix(prefix) else {
                return .failure(
                    .refused(
                        "\(what) '\(path)' resolves to '\(real)', outside the folder '\(folder)': "
                            + "a symbolic link may not lead out of it; refused"))
            }
        }
        // O_NONBLOCK: opening a FIFO must not hang the daemon; it is refused just below as not a regular file.
        let fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(errno == EACCES ? .refused("\(what) '\(path)': permission denied") : .missing)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return .failure(.refused("\(what) '\(path)' is not a regular file; refused"))
        }
        let tooLarge = ConfigFileProblem.refused(
            "\(what) '\(path)' is larger than \(describe(bytes: limit)) (the limit for a \(what)); refused unread")
        guard info.st_size <= limit else { return .failure(tooLarge) }
        // Read at most one byte past the limit: the size on disk may change, or be reported as 0 (/proc).
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            count += n
        }
        guard count <= limit else { return .failure(tooLarge) }
        bytes.removeSubrange(count...)
        if bytes.contains(0) {
            return .failure(.refused("\(what) '\(path)' is a binary file (it contains NUL bytes), not text; refused"))
        }
        let (text, bad) = YAMLFile.decode(Data(bytes), file: path)
        guard let text else {
            return .failure(.notText(bad ?? Diagnostic(at: nil, "\(what) '\(path)' is not valid UTF-8")))
        }
        return .success(text)
    }

    /// The diagnostic for a problem other than `missing`.
    static func diagnostic(_ problem: ConfigFileProblem) -> Diagnostic? {
        switch problem {
        case .missing: nil
        case .refused(let message): Diagnostic(at: nil, message)
        case .notText(let d): d
        }
    }

    /// "1 MiB", "256 KiB" or "N bytes".
    static func describe(bytes n: Int) -> String {
        if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10, n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        return "\(n) bytes"
    }

    /// read(2), named apart from `read(_:what:limit:inside:)`.
    private static func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.read(fd, buffer, count)
        #else
            Darwin.read(fd, buffer, count)
        #endif
    }

    /// The canonical absolute path with every symbolic link resolved, or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
