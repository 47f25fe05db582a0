import Foundation
import HeraldCore
import HeraldDaemon
import Logging
import Testing

/// heraldd's log lines: what came from outside cannot end a line, forge the next one or colour the terminal.
@Suite struct DaemonLogEscapingTests {
    /// Collects what a `StreamLogHandler` writes.
    final class Capture: TextOutputStream, Sendable {
        private let text = LockedState("")
        func write(_ string: String) { text.withLock { $0 += string } }
        var lines: [Substring] { text.withLock { $0 }.split(separator: "\n") }
    }

    struct Forged: Error, CustomStringConvertible {
        var description: String { "provider said:\n2026-01-01T00:00:00+0000 critical heraldd: forged" }
    }

    @Test func controlCharactersInMessagesMetadataAndErrorsAreEscaped() {
        let capture = Capture()
        let handler = DaemonMain.logHandler(
            StreamLogHandler(label: "heraldd", stream: capture), environment: ["HERALD_LOG_LEVEL": "debug"])
        let logger = Logger(label: "heraldd") { _ in handler }
        #expect(logger.logLevel == .debug)
        let user = "u1\n2026-01-01T00:00:00+0000 critical heraldd: disk full"
        logger.info("planned \(user)", metadata: ["user": "\(user)", "event": ["names": ["\u{1B}[31mred"]]])
        logger.warning("send failed", error: Forged())
        #expect(capture.lines.count == 2, "\(capture.lines)")
        let all = capture.lines.joined(separator: "\n")
        #expect(all.contains(#"planned u1\n2026-01-01T00:00:00+0000 critical"#))
        #expect(all.contains(#"user=u1\n2026"#))
        #expect(all.contains(#"\u{1B}[31mred"#))
        #expect(all.contains(#"provider said:\n2026"#))
        #expect(!all.contains("\u{1B}"))
        #expect(capture.lines.allSatisfy { !$0.contains(" critical heraldd:") || $0.contains(#"\n"#) })
    }
}
