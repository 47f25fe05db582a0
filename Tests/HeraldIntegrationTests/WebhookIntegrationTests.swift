import Foundation
import HeraldDelivery
import Testing

/// Webhooks and engine faults against tests/Fixtures/webhook_receiver.py, which verifies
/// signatures with the reference `standardwebhooks` library.
@Suite(.serialized) struct WebhookIntegrationTests {
    static let secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let secretB = "whsec_" + Data("rotated-secret-for-tests".utf8).base64EncodedString()

    /// Starts the receiver; returns it, its base URL and its record file.
    func startReceiver(_ dir: TempDirectory) async throws -> (TestServer, String, String) {
        let server = try TestServer(
            "webhook receiver", python3,
            [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("record.jsonl"), Self.secretA, Self.secretB],
            log: dir.file("receiver.log"))
        let port = try await readyPort(dir.file("ready"), server: server)
        return (server, "http://127.0.0.1:\(port)", dir.file("record.jsonl"))
    }

    @Test func signedDeliveriesVerifyWithTheReferenceLibrary() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, record) = try await startReceiver(dir)
        defer { server.stop() }
        let transport = WebhookTransport(
            name: "push", url: base + "/hooks/push",
            secrets: [WebhookSecret(Self.secretA)!, WebhookSecret(Self.secretB)!], engine: sharedEngine)
        let now = Int64(Date().timeIntervalSince1970)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<40 {
                group.addTask {
                    let body = Array(#"{"user":"u\#(i)","text":"héllo ✓"}"#.utf8)
                    return try await transport.deliver(id: "cart:u\(i):1", body: body, timestamp: now).status
                }
            }
            for try await status in group { #expect(status == 204) }
        }
        let lines = jsonLines(record)
        #expect(lines.count == 40)
        #expect(lines.allSatisfy { $0["verified"] as? Int == 2 && $0["signatures"] as? Int == 2 })
        #expect(Set(lines.compactMap { $0["id"] as? String }).count == 40)
        #expect(lines.contains { ($0["body"] as? String)?.contains("héllo ✓") == true })
    }

    @Test func connectionsAreReused() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        var reused = 0
        for _ in 0..<5 {
            let response = try await sharedEngine.send(HTTPRequest(url: base + "/plain"))
            #expect(response.status == 200)
            #expect(response.text == "ok")
            if response.reusedConnection { reused += 1 }
        }
        #expect(reused == 4)
    }

    // A busy host's requests spill over to the other curl thread (from the first one in flight, here), yet the host
    // never sees more connections than `maxPerHost`: the limit is shared out over the threads.
    @Test(arguments: [1, 2, 3])
    func spilledRequestsKeepTheConnectionLimit(maxPerHost: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        let engine = CurlEngine(maxPerHost: maxPerHost, threads: 2, spillAt: 1)
        defer { engine.shutdown() }
        var made = 0
        for _ in 0..<3 {
            made += try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<24 { group.addTask { try await engine.send(HTTPRequest(url: base + "/plain")).reusedConnection } }
                return try await group.reduce(0) { $1 ? $0 : $0 + 1 }
            }
        }
        // Connections are kept between rounds (which worker a round reaches first varies), so over all 72 requests
        // no more than `maxPerHost` connections were ever made.
        #expect(made >= 1 && made <= maxPerHost, "\(made) connections made")
    }

    // With the host's one slot held by a stalled transfer, a request waiting for it fails at its own time limit (it
    // is never sent), a cancelled one is cancelled, and the queue moves on once the slot is free.
    @Test func requestsWaitingForABusyHostTimeOutOrCancel() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, record) = try await startReceiver(dir)
        defer { server.stop() }
        let engine = CurlEngine(maxPerHost: 1, threads: 1)
        defer { engine.shutdown() }
        let stalled = Task { try await engine.send(HTTPRequest(method: .post, url: base + "/fault/stall", timeout: .seconds(3))) }
        try await waitFor("the stalled request never arrived") { engine.inFlight == 1 }
        let waiting = await #expect(throws: DeliveryError.self) {
            try await engine.send(HTTPRequest(url: base + "/waited", timeout: .milliseconds(200)))
        }
        #expect(waiting?.code == .timedOut)
        #expect(waiting?.isRetryable == true)
        let cancelled = Task { try await engine.send(HTTPRequest(url: base + "/cancelled", timeout: .seconds(30))) }
        try await waitFor("the second request never queued") { engine.inFlight == 2 }
        cancelled.cancel()
        let error = await #expect(throws: DeliveryError.self) { try await cancelled.value }
        #expect(error?.code == .cancelled)
        let queued = Task { try await engine.send(HTTPRequest(url: base + "/after", timeout: .seconds(30))) }
        let timedOut = await #expect(throws: DeliveryError.self) { try await stalled.value }
        #expect(timedOut?.code == .timedOut)
        #expect(try await queued.value.status == 200)
        #expect(jsonLines(record).compactMap { $0["path"] as? String } == ["/after"])
    }

    @Test func goneDisablesTheEndpointLoudly() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        let transport = WebhookTransport(name: "old", url: base + "/fault/status/410", secrets: [WebhookSecret(Self.secretA)!],
                                         engine: sharedEngine)
        let error = await #expect(throws: DeliveryError.self) { try await transport.deliver(id: "k", body: [], timestamp: 1) }
        #expect(error?.code == .endpointGone)
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("disabled") == true)
    }

    @Test func tooManyRequestsSlowsDownWithRetryAfter() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        for status in [429, 503] {
            let transport = WebhookTransport(name: "busy", url: base + "/fault/status/\(status)?retry_after=7",
                                             secrets: [WebhookSecret(Self.secretA)!], engine: sharedEngine)
            let error = await #expect(throws: DeliveryError.self) { try await transport.deliver(id: "k", body: [], timestamp: 1) }
            #expect(error?.code == .slowDown)
            #expect(error?.isRetryable == true)
            #expect(error?.retryAfter == 7)
        }
    }

    @Test func redirectsAreNotFollowed() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, record) = try await startReceiver(dir)
        defer { server.stop() }
        let transport = WebhookTransport(name: "moved", url: base + "/fault/redirect", secrets: [WebhookSecret(Self.secretA)!],
                                         engine: sharedEngine)
        let error = await #expect(throws: DeliveryError.self) { try await transport.deliver(id: "k", body: [], timestamp: 1) }
        #expect(error?.status == 302)
        #expect(error?.isRetryable == false)
        #expect(jsonLines(record).isEmpty)
    }

    @Test func resetMidBodyIsARetryableConnectionError() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await sharedEngine.send(HTTPRequest(url: base + "/fault/reset"))
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
    }

    @Test func stallingPeerTimesOut() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        let error = await #expect(throws: DeliveryError.self) {
            try await sharedEngine.send(HTTPRequest(method: .post, url: base + "/fault/stall", timeout: .milliseconds(300)))
        }
        #expect(error?.code == .timedOut)
        #expect(error?.isRetryable == true)
    }

    @Test func cancellingTheTaskRemovesTheTransfer() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (server, base, _) = try await startReceiver(dir)
        defer { server.stop() }
        let engine = CurlEngine()
        defer { engine.shutdown() }
        let task = Task { try await engine.send(HTTPRequest(method: .post, url: base + "/fault/stall", timeout: .seconds(60))) }
        try await waitFor("the transfer never started") { engine.inFlight == 1 }
        task.cancel()
        let result = await task.result
        #expect(throws: DeliveryError.self) { try result.get() }
        #expect(engine.inFlight == 0)
    }

    @Test func headerInjectionAndOtherSchemesAreRefused() async throws {
        let injected = HTTPRequest(url: "http://127.0.0.1:9/x", headers: [HeaderField("X-Evil", "a\r\nX-Other: b")])
        let error = await #expect(throws: DeliveryError.self) { try await sharedEngine.send(injected) }
        #expect(error?.code == .invalidRequest)
        let file = await #expect(throws: DeliveryError.self) { try await sharedEngine.send(HTTPRequest(url: "file:///etc/passwd")) }
        #expect(file?.code == .invalidRequest)
        let refused = await #expect(throws: DeliveryError.self) { try await sharedEngine.send(HTTPRequest(url: "http://127.0.0.1:9/")) }
        #expect(refused?.code == .connectionFailed)
    }
}

/// The Twilio and templated-HTTP SMS providers against the recording receiver: the request shapes on the wire.
@Suite(.serialized) struct SMSProviderWireTests {
    @Test func twilioFormPostWithBasicAuthAndStatusCallback() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let server = try TestServer("receiver", python3, [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("r.jsonl")],
                                    log: dir.file("log"))
        defer { server.stop() }
        let port = try await readyPort(dir.file("ready"), server: server)
        let sms = SMSTransport(provider: .twilio, url: "http://127.0.0.1:\(port)/2010-04-01/Accounts/AC123/Messages.json",
                               username: "AC123", password: "auth-token", from: "+15550001111", engine: sharedEngine)
        let receipt = try await sms.send(SMSMessage(to: PhoneNumber("+15550002222")!, text: "生日快乐 & 20% off", idempotencyKey: "k1",
                                                    statusCallback: "https://herald.example/dlr/twilio"))
        #expect(receipt.status == 200)
        let request = try #require(jsonLines(dir.file("r.jsonl")).first)
        let headers = request["headers"] as? [String: String] ?? [:]
        #expect(request["method"] as? String == "POST")
        #expect(headers["content-type"] == "application/x-www-form-urlencoded")
        #expect(headers["authorization"] == "Basic " + Data("AC123:auth-token".utf8).base64EncodedString())
        let form = try #require(URLComponents(string: "?" + (request["body"] as? String ?? ""))?.queryItems)
        #expect(form.first { $0.name == "Body" }?.value == "生日快乐 & 20% off")
        #expect(form.first { $0.name == "To" }?.value == "+15550002222")
        #expect(form.first { $0.name == "StatusCallback" }?.value == "https://herald.example/dlr/twilio")
    }

    @Test func templatedHTTPGateway() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let server = try TestServer("receiver", python3, [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("r.jsonl")],
                                    log: dir.file("log"))
        defer { server.stop() }
        let port = try await readyPort(dir.file("ready"), server: server)
        let sms = SMSTransport(provider: .http, url: "http://127.0.0.1:\(port)/send?to={to}&ref={id}", from: "Shop", engine: sharedEngine)
        _ = try await sms.send(SMSMessage(to: PhoneNumber("+15550002222")!, text: "hi", idempotencyKey: "bday:u1"))
        let request = try #require(jsonLines(dir.file("r.jsonl")).first)
        #expect(request["query"] as? String == "to=%2B15550002222&ref=bday%3Au1")
        #expect((request["body"] as? String)?.contains("\"text\":\"hi\"") == true)
    }
}

@Suite struct EngineShutdownTests {
    @Test func sendsAfterShutdownFailFast() async throws {
        let engine = CurlEngine()
        engine.shutdown()
        for _ in 0..<3 {
            let error = await #expect(throws: DeliveryError.self) { try await engine.send(HTTPRequest(url: "http://127.0.0.1:9/")) }
            #expect(error?.code == .cancelled)
        }
        #expect(engine.inFlight == 0)
    }
}
