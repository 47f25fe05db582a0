import Foundation
import HeraldDelivery
import Testing

/// The engine against a real nginx over TLS with HTTP/2, using a CA made by the test.
@Suite(.serialized) struct HTTP2IntegrationTests {
    func startNginx(_ dir: TempDirectory) async throws -> (TestServer, Int) {
        try makeCertificates(in: dir)
        let port = freePort()
        try dir.write("nginx.conf", """
            daemon off;
            master_process off;
            pid \(dir.file("nginx.pid"));
            error_log \(dir.file("nginx-error.log"));
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(dir.path);
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(dir.file("server.pem"));
                    ssl_certificate_key \(dir.file("server.key"));
                    location / { return 204; }
                }
            }

            """)
        let nginx = try TestServer("nginx", "/usr/sbin/nginx", ["-c", dir.file("nginx.conf")], log: dir.file("nginx.out"))
        try await waitFor("nginx never listened on \(port); log:\n\(nginx.log)") {
            guard nginx.isAlive else { throw ServerUnavailable("nginx exited; log:\n\(nginx.log)") }
            return isListening(port)
        }
        return (nginx, port)
    }

    @Test func http2MultiplexesOverOneVerifiedConnection() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (nginx, port) = try await startNginx(dir)
        defer { nginx.stop() }
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let tls = TLSOptions(caFile: dir.file("ca.pem"))
        // GETs: nginx's bare `return 204` answers a POST before reading its body and then resets the
        // stream, which curl 7.88 reports as an HTTP/2 framing error; a real receiver reads the body.
        let first = try await engine.send(HTTPRequest(url: "https://127.0.0.1:\(port)/hooks", tls: tls))
        #expect(first.status == 204)
        #expect(first.httpVersion == 2)
        let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            for _ in 0..<50 {
                group.addTask { try await engine.send(HTTPRequest(url: "https://127.0.0.1:\(port)/hooks", tls: tls)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.allSatisfy { $0.status == 204 && $0.httpVersion == 2 })
        #expect(responses.filter(\.reusedConnection).count >= 45)
    }

    @Test func peersAreVerifiedByDefault() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (nginx, port) = try await startNginx(dir)
        defer { nginx.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await sharedEngine.send(HTTPRequest(url: "https://127.0.0.1:\(port)/"))
        }
        #expect(error?.code == .tlsFailed)
        #expect(error?.isRetryable == false)
        let insecure = try await sharedEngine.send(HTTPRequest(url: "https://127.0.0.1:\(port)/", tls: TLSOptions(verifyPeer: false)))
        #expect(insecure.status == 204)
    }
}
