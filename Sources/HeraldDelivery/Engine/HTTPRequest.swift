/// TLS settings for one transfer: peers are verified unless the config says otherwise.
public struct TLSOptions: Sendable, Hashable {
    /// A PEM CA bundle to verify the peer against, instead of the system store.
    public var caFile: String?
    /// Verify the peer's certificate and host name (default true).
    public var verifyPeer: Bool

    /// TLS settings.
    public init(caFile: String? = nil, verifyPeer: Bool = true) {
        self.caFile = caFile
        self.verifyPeer = verifyPeer
    }
}

/// One header line; names and values may not contain CR, LF or NUL.
public struct HeaderField: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The header value.
    public var value: String

    /// A header.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// False when the field could smuggle another header or request line.
    var isSafe: Bool {
        // CR, LF, NUL, ':' and space are ASCII, so looking at the UTF-8 bytes is exact.
        !name.isEmpty && !name.utf8.contains { $0 == 0x3A || $0 == 0x20 || $0 == 0x0D || $0 == 0x0A || $0 == 0 }
            && !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }
}

/// An HTTP or HTTPS request for the engine; redirects are not followed unless asked.
public struct HTTPRequest: Sendable, Hashable {
    /// The request method.
    public enum Method: String, Sendable, Hashable {
        /// GET.
        case get = "GET"
        /// POST.
        case post = "POST"
        /// PUT.
        case put = "PUT"
        /// PATCH.
        case patch = "PATCH"
        /// DELETE.
        case delete = "DELETE"
    }

    /// The method.
    public var method: Method
    /// An `http://` or `https://` URL.
    public var url: String
    /// Request headers, in order.
    public var headers: [HeaderField]
    /// The request body.
    public var body: [UInt8]
    /// The whole transfer's time limit.
    public var timeout: Duration
    /// The time limit for connecting (including TLS).
    public var connectTimeout: Duration
    /// TLS settings.
    public var tls: TLSOptions
    /// Follow 3xx redirects (off by default; webhooks never follow).
    public var followRedirects: Bool
    /// HTTP basic-auth user name.
    public var username: String?
    /// HTTP basic-auth password (never logged).
    public var password: String?
    /// The most response-body bytes kept; a longer body fails the transfer.
    public var maxResponseBytes: Int

    /// A request.
    public init(method: Method = .get, url: String, headers: [HeaderField] = [], body: [UInt8] = [],
                timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10),
                tls: TLSOptions = TLSOptions(), followRedirects: Bool = false,
                username: String? = nil, password: String? = nil, maxResponseBytes: Int = 1 << 20) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.followRedirects = followRedirects
        self.username = username
        self.password = password
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A complete HTTP response, whatever its status.
public struct HTTPResponse: Sendable, Hashable {
    /// The status code.
    public var status: Int
    /// Response headers of the final response, in order.
    public var headers: [HeaderField]
    /// The response body.
    public var body: [UInt8]
    /// The negotiated HTTP version: 1 for HTTP/1.x, 2 for HTTP/2.
    public var httpVersion: Int
    /// True when the transfer reused a cached connection.
    public var reusedConnection: Bool

    /// A response.
    public init(status: Int, headers: [HeaderField] = [], body: [UInt8] = [], httpVersion: Int = 1,
                reusedConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
        self.reusedConnection = reusedConnection
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// One SMTP transaction: envelope, message bytes and the server to hand them to.
public struct SMTPRequest: Sendable, Hashable {
    /// `smtp://host:port` (STARTTLS required unless `insecure`) or `smtps://host:port`.
    public var url: String
    /// Allow `smtp://` without STARTTLS.
    public var insecure: Bool
    /// AUTH user name.
    public var username: String?
    /// AUTH password (never logged).
    public var password: String?
    /// The envelope sender address (`MAIL FROM`).
    public var mailFrom: String
    /// The envelope recipients (`RCPT TO`).
    public var recipients: [String]
    /// The complete RFC 5322 message, CRLF line endings.
    public var message: [UInt8]
    /// The whole transaction's time limit.
    public var timeout: Duration
    /// TLS settings.
    public var tls: TLSOptions

    /// A transaction.
    public init(url: String, insecure: Bool = false, username: String? = nil, password: String? = nil,
                mailFrom: String, recipients: [String], message: [UInt8], timeout: Duration = .seconds(60),
                tls: TLSOptions = TLSOptions()) {
        self.url = url
        self.insecure = insecure
        self.username = username
        self.password = password
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.message = message
        self.timeout = timeout
        self.tls = tls
    }
}

/// The server's final answer to an SMTP transaction.
public struct SMTPReply: Sendable, Hashable {
    /// The last SMTP reply code (250 when the message was accepted).
    public var code: Int
    /// True when the transfer reused a cached connection.
    public var reusedConnection: Bool

    /// A reply.
    public init(code: Int, reusedConnection: Bool = false) {
        self.code = code
        self.reusedConnection = reusedConnection
    }
}

extension Duration {
    /// Whole milliseconds, at least 1.
    var milliseconds: Int {
        let (s, atto) = components
        return max(1, Int(s) * 1000 + Int(atto / 1_000_000_000_000_000))
    }
}

extension HTTPRequest: CustomStringConvertible, CustomDebugStringConvertible {
    /// `POST https://host:port`: never the path, query or password, which may hold secrets.
    public var description: String { "\(method.rawValue) \(CurlTransfer.peer(url))" }
    /// The same as `description`, so `String(reflecting:)` cannot leak a secret either.
    public var debugDescription: String { description }
}

extension SMTPRequest: CustomStringConvertible, CustomDebugStringConvertible {
    /// `SMTP smtps://host:port, N recipient(s)`: never the password.
    public var description: String { "SMTP \(CurlTransfer.peer(url)), \(recipients.count) recipient(s)" }
    /// The same as `description`, so `String(reflecting:)` cannot leak a secret either.
    public var debugDescription: String { description }
}
