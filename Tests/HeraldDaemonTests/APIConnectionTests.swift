import Foundation
import HeraldDaemon
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Connections that never finish a request must not be held for ever (slowloris).
@Suite("API: connection limits")
struct APIConnectionTests {
    /// Connects to 127.0.0.1:`port`; the socket reads give up after `readTimeout` seconds (a bound on a
    /// broken test, not a timing assertion).
    static func connect(_ port: Int, readTimeout: Int = 20) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard r == 0 else { throw FixtureError("cannot connect to 127.0.0.1:\(port)") }
        var tv = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Writes `text` whole.
    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// `readToClose` on a thread of its own: a blocking read must not hold one of the few threads the
    /// server's handlers run on.
    static func readToCloseOffPool(_ fd: Int32) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { c in
            Thread.detachNewThread { c.resume(returning: readToClose(fd)) }
        }
    }

    /// Reads until the peer closes; what was read, and whether it closed (false: the read timed out).
    static func readToClose(_ fd: Int32) -> (text: String, closed: Bool) {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return (String(decoding: all, as: UTF8.self), true) }
            if n < 0 { return (String(decoding: all, as: UTF8.self), errno == ECONNRESET) }
            all += buffer[0..<n]
        }
    }

    @Test("a request head that never ends is closed after the idle timeout; a complete one is served")
    func slowHeaderIsClosed() async throws {
        try await APIHarness.run(idleTimeout: .seconds(1)) { api in
            let port = try #require(Int(api.base.split(separator: ":").last ?? ""))
            let slow = try Self.connect(port)
            defer { close(slow) }
            Self.write(slow, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
            let started = Date()
            let (text, closed) = await Self.readToCloseOffPool(slow)
            #expect(closed, "the server held a connection whose request head never ended")
            #expect(text.isEmpty)
            // Closed by the 1 s idle timeout, well before the 20 s read bound.
            #expect(Date().timeIntervalSince(started) < 15)

            let fine = try Self.connect(port)
            defer { close(fine) }
            Self.write(fine, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            let (reply, _) = await Self.readToCloseOffPool(fine)
            #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply)")
        }
    }
}
