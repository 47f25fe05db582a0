import HeraldDelivery
import Testing

@Test func linksLibcurl() { #expect(Delivery.curlVersion.hasPrefix("libcurl/")) }
