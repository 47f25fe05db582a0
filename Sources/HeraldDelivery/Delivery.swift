import CCurl
import HeraldCore

/// Delivery: the libcurl engine, email over SMTP, SMS gateways and signed webhooks (docs/delivery.md).
public enum Delivery {
    /// The libcurl version this build links against.
    public static var curlVersion: String { String(cString: curl_version()) }
}
