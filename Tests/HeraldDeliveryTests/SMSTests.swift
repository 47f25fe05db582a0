import Foundation
import HeraldCore
@testable import HeraldDelivery
import Testing

@Suite struct SMSTests {
    @Test(arguments: ["+15550001111", "+44 20 7946 0958", "+86 (138) 0013-8000"])
    func validNumbers(text: String) { #expect(PhoneNumber(text) != nil) }

    @Test(arguments: ["15550001111", "+0123456789", "+1234567", "+1234567890123456", "+1555abc1111", "", "+"])
    func invalidNumbers(text: String) { #expect(PhoneNumber(text) == nil) }

    let engine = CurlEngine()
    let message = SMSMessage(to: PhoneNumber("+15550002222")!, text: "您好 & bye", idempotencyKey: "bday:u1",
                             statusCallback: "http://127.0.0.1:1/dlr?s=%d&id=bday:u1")

    @Test func kannelRequest() {
        let t = SMSTransport(provider: .kannel, url: "http://127.0.0.1:13013/cgi-bin/sendsms", username: "herald",
                             password: "pw", from: "+15550001111", engine: engine)
        let r = t.request(message)
        #expect(r.method == .get)
        #expect(r.url.hasPrefix("http://127.0.0.1:13013/cgi-bin/sendsms?username=herald&password=pw&to=%2B15550002222&text="))
        #expect(r.url.contains("text=%E6%82%A8%E5%A5%BD%20%26%20bye"))
        #expect(r.url.contains("coding=2"))
        #expect(r.url.contains("dlr-mask=31&dlr-url=http%3A%2F%2F127.0.0.1%3A1%2Fdlr%3Fs%3D%25d%26id%3Dbday%3Au1"))
    }

    @Test func twilioRequest() {
        let t = SMSTransport(provider: .twilio, url: "https://api.twilio.example/2010-04-01/Accounts/AC1/Messages.json",
                             username: "AC1", password: "token", from: "+15550001111", engine: engine)
        let r = t.request(message)
        #expect(r.method == .post)
        #expect(r.username == "AC1" && r.password == "token")
        #expect(r.headers.contains(HeaderField("Content-Type", "application/x-www-form-urlencoded")))
        let body = String(decoding: r.body, as: UTF8.self)
        #expect(body.hasPrefix("To=%2B15550002222&From=%2B15550001111&Body=%E6%82%A8%E5%A5%BD%20%26%20bye&StatusCallback=http"))
    }

    @Test func templatedHTTPRequest() throws {
        let t = SMSTransport(provider: .http, url: "https://gw.example/send?to={to}&id={id}", from: "Shop", engine: engine)
        let r = t.request(message)
        #expect(r.url == "https://gw.example/send?to=%2B15550002222&id=bday%3Au1")
        let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: String]
        #expect(json?["text"] == "您好 & bye")
        #expect(json?["from"] == "Shop")
    }
}
