import Foundation
import HeraldCore
import HeraldDelivery
import Testing

/// SMS through a real Kannel (bearerbox + smsbox) with its fake SMSC simulator attached.
@Suite(.serialized) struct KannelIntegrationTests {
    struct Ports {
        let admin = freePort(), smsbox = freePort(), sendsms = freePort(), smsc = freePort()
    }

    func config(_ dir: TempDirectory, _ p: Ports) -> String {
        """
        group = core
        admin-port = \(p.admin)
        admin-password = admin-secret
        status-password = admin-secret
        smsbox-port = \(p.smsbox)
        box-allow-ip = 127.0.0.1
        log-file = "\(dir.file("bearerbox.log"))"
        log-level = 0
        dlr-storage = internal

        group = smsc
        smsc = fake
        smsc-id = fake
        port = \(p.smsc)
        connect-allow-ip = 127.0.0.1

        group = smsbox
        bearerbox-host = 127.0.0.1
        bearerbox-port = \(p.smsbox)
        sendsms-port = \(p.sendsms)
        log-file = "\(dir.file("smsbox.log"))"
        log-level = 0

        group = sendsms-user
        username = herald
        password = sms-secret
        concatenation = true
        max-messages = 5

        group = sms-service
        keyword = default
        text = "ok"

        """
    }

    @Test func sendsASCIIAndUCS2AndReceivesDeliveryReports() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let p = Ports()
        try dir.write("kannel.conf", config(dir, p))
        // The dlr-url receiver.
        let receiver = try TestServer("dlr receiver", python3,
                                      [Fixtures.script("webhook_receiver.py"), dir.file("ready"), dir.file("dlr.jsonl")],
                                      log: dir.file("receiver.log"))
        defer { receiver.stop() }
        let receiverPort = try await readyPort(dir.file("ready"), server: receiver)

        let bearerbox = try TestServer("bearerbox", "/usr/sbin/bearerbox", [dir.file("kannel.conf")], log: dir.file("bearerbox.out"))
        defer { bearerbox.stop() }
        try await waitFor("bearerbox never listened on its admin and SMSC ports; log:\n\(bearerbox.log)") {
            guard bearerbox.isAlive else { throw ServerUnavailable("bearerbox exited; log:\n\(bearerbox.log)") }
            return isListening(p.admin) && isListening(p.smsc)
        }
        // Never probe the fake-SMSC port: its first connection is taken as the simulator.
        let fakesmsc = try TestServer("fakesmsc", "/usr/lib/kannel/test/fakesmsc",
                                      ["-H", "127.0.0.1", "-r", "\(p.smsc)", "-m", "0", "-v", "0", "1 2 text nop"],
                                      log: dir.file("fakesmsc.log"))
        defer { fakesmsc.stop() }
        let status = "http://127.0.0.1:\(p.admin)/status.txt?password=admin-secret"
        var online = false
        let deadline = Date().addingTimeInterval(20)
        while !online && Date() < deadline {
            if let text = try? await sharedEngine.send(HTTPRequest(url: status, timeout: .seconds(2))).text {
                online = text.contains("online")
            }
            if !online { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard online else { throw ServerUnavailable("the fake SMSC never came online; fakesmsc log:\n\(fakesmsc.log)") }
        let smsbox = try TestServer("smsbox", "/usr/sbin/smsbox", [dir.file("kannel.conf")], log: dir.file("smsbox.out"))
        defer { smsbox.stop() }
        try await waitFor("smsbox never listened on \(p.sendsms); log:\n\(smsbox.log)") {
            guard smsbox.isAlive else { throw ServerUnavailable("smsbox exited; log:\n\(smsbox.log)") }
            return isListening(p.sendsms)
        }

        let sms = SMSTransport(provider: .kannel, url: "http://127.0.0.1:\(p.sendsms)/cgi-bin/sendsms", username: "herald",
                               password: "sms-secret", from: "+15550001111", engine: sharedEngine)
        let long = String(repeating: "Long offer text. ", count: 12)  // 204 GSM-7 septets: 2 segments
        let texts = [("ascii", "Happy birthday Ann! 20% off today."), ("chinese", "生日快乐！今天八折。"), ("long", long)]
        for (key, text) in texts {
            let message = SMSMessage(to: PhoneNumber("+15550002222")!, text: text, idempotencyKey: key,
                                     statusCallback: "http://127.0.0.1:\(receiverPort)/dlr?key=\(key)&status=%d")
            let receipt = try await sms.send(message)
            #expect(receipt.status == 202)
            #expect(receipt.body.contains("Accepted for delivery"))
        }
        // Bad credentials are permanent.
        let wrong = SMSTransport(provider: .kannel, url: "http://127.0.0.1:\(p.sendsms)/cgi-bin/sendsms", username: "herald",
                                 password: "nope", engine: sharedEngine)
        let denied = await #expect(throws: DeliveryError.self) {
            try await wrong.send(SMSMessage(to: PhoneNumber("+15550002222")!, text: "x", idempotencyKey: "k"))
        }
        #expect(denied?.code == .loginDenied)
        #expect(denied.map { "\($0)" }?.contains("nope") == false)

        // What the simulator received.
        try await waitFor("fakesmsc did not log both messages; log:\n\(fakesmsc.log)") {
            fakesmsc.log.components(separatedBy: "Got message").count - 1 >= 4
        }
        let got = fakesmsc.log.split(separator: "\n").filter { $0.contains("Got message") }.map(String.init)
        #expect(got.contains { $0.contains("+15550001111 +15550002222 text") && $0.contains("Happy") })
        let ucs2 = try #require(got.first { $0.contains(" ucs-2 ") })
        let payload = String(ucs2.split(separator: " ").last!.dropLast(ucs2.hasSuffix(">") ? 1 : 0))
        #expect(decodeUTF16BE(percentDecoded: payload) == "生日快乐！今天八折。")
        #expect(got.filter { $0.contains(" udh ") }.count == SMSEncoding(long).segments)

        // Delivery reports on the dlr-url: the fake SMSC acks (8) and then reports delivered (1).
        try await waitFor("no 'delivered' report reached the dlr-url; record: \(jsonLines(dir.file("dlr.jsonl")))") {
            let queries = jsonLines(dir.file("dlr.jsonl")).compactMap { $0["query"] as? String }
            return queries.contains("key=ascii&status=8") && queries.contains("key=ascii&status=1")
                && queries.contains("key=chinese&status=1")
        }
    }

    func decodeUTF16BE(percentDecoded text: String) -> String? {
        var bytes: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "%", let end = text.index(i, offsetBy: 3, limitedBy: text.endIndex),
               let byte = UInt8(text[text.index(after: i)..<end], radix: 16) {
                bytes.append(byte)
                i = end
            } else {
                bytes.append(contentsOf: Array(String(text[i]).utf8))
                i = text.index(after: i)
            }
        }
        guard bytes.count % 2 == 0 else { return nil }
        let units = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        return String(utf16CodeUnits: units, count: units.count)
    }
}
