import Foundation

/// Writes to stdout and stderr, and knows whether they are terminals.
enum Console {
    /// True when standard error is a terminal (progress is drawn only then).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// True when standard output is a terminal.
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }

    /// One line to standard output. When the reader has gone (`herald logs | head`), exits quietly with 0,
    /// as `cat` would, instead of failing on the broken pipe.
    static func out(_ line: String) {
        write(1, line + "\n")
    }

    /// One line to standard error.
    static func err(_ line: String) {
        write(2, line + "\n")
    }

    /// Raw text to standard error, no newline (progress redraws).
    static func errRaw(_ text: String) {
        write(2, text)
    }

    /// Writes every byte of `text` to `fd`, retrying short writes and EINTR; a closed pipe ends the process.
    private static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    // EPIPE (SIGPIPE is ignored by the runtime) or another write error: nobody is reading.
                    exit(0)
                }
            }
        }
    }
}

/// A progress line redrawn in place on a terminal, silent otherwise.
final class ProgressLine {
    private let enabled: Bool
    private var lastDraw: Double = 0
    private let label: String

    /// A progress line; draws only when stderr is a terminal.
    init(label: String, enabled: Bool = Console.stderrIsTerminal) {
        self.label = label
        self.enabled = enabled
    }

    /// Redraws at most ten times a second.
    func update(done: Int64, total: Int64, rows: Int) {
        guard enabled else { return }
        let t = Date().timeIntervalSince1970
        if t - lastDraw < 0.1 { return }
        lastDraw = t
        let pct = total > 0 ? Double(done) * 100 / Double(total) : 0
        let width = 30
        let filled = Int(Double(width) * min(pct, 100) / 100)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        Console.errRaw("\r\(label) \(bar) \(String(format: "%5.1f", pct))%  \(rows) rows")
    }

    /// Clears the line.
    func finish() {
        guard enabled else { return }
        Console.errRaw("\r\u{1B}[2K")
    }
}
