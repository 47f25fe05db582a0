import HeraldDelivery
import Testing

@Test func integrationTargetBuilds() { #expect(!Delivery.curlVersion.isEmpty) }
