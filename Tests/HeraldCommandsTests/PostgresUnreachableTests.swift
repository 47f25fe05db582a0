import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server that accepts connections and never answers must not hang the CLI.
@Suite("CLI: an unreachable PostgreSQL")
struct PostgresUnreachableTests {
    /// A socket listening on 127.0.0.1 that never accepts: the kernel completes each TCP handshake and the
    /// client's startup message is never answered (a server that hangs, or a firewall that swallows replies).
    final class SilentServer {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                close(fd)
                throw CocoaError(.fileWriteUnknown)
            }
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
        }

        deinit { close(fd) }
    }

    @Test("herald exits 69 after connect_timeout, naming the server without its password")
    func silentServerTimesOut() throws {
        let server = try SilentServer()
        let h = try CLIHarness.make()
        defer { h.remove() }
        let config = try String(contentsOfFile: h.root + "/herald.yaml", encoding: .utf8)
            .replacingOccurrences(
                of: "sqlite: var/herald.db",
                with: "postgres: postgres://herald:s3cret@127.0.0.1:\(server.port)/herald?connect_timeout=1")
        try h.write("herald.yaml", config)
        let started = Date()
        let r = try h.run(["audience", "true", "--count"])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("did not answer within 1 s"), "\(r.stderr)")
        #expect(r.stderr.contains("postgres://herald:***@127.0.0.1:\(server.port)/herald"), "\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains("s3cret"))
        // Not a timing assertion: a bound that a hang (the defect) would exceed many times over.
        #expect(Date().timeIntervalSince(started) < 30)
        withExtendedLifetime(server) {}
    }
}
