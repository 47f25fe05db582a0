import CCurl

/// What the engine is asked to do.
enum CurlJob: Sendable {
    /// A checked request and its header lines, made by the caller so the curl thread only hands them to curl.
    case http(HTTPRequest, headerLines: [String])

    /// The request's time limit.
    var timeout: Duration {
        switch self { case .http(let request, _): request.timeout }
    }

    /// `scheme://host:port` of the request, for errors.
    var peer: String {
        switch self { case .http(let request, _): CurlTransfer.peer(request.url) }
    }

    /// What the per-host limit counts by: `scheme://authority` of the URL.
    var hostKey: String {
        switch self { case .http(let request, _): String(request.url[..<Self.authorityEnd(request.url)]) }
    }

    /// Where `scheme://authority` ends in `url`: at the first "/", "?" or "#" after "://". On UTF-8 bytes, as it
    /// runs for every request.
    static func authorityEnd(_ url: String) -> String.Index {
        var slashes = 0
        return url.utf8.firstIndex { byte in
            if byte == UInt8(ascii: "/") { slashes += 1 }
            return slashes >= 3 || (slashes == 2 && (byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")))
        } ?? url.utf8.endIndex
    }

    /// The job for `request`, or the error that refuses it before it reaches the curl thread.
    static func prepare(_ request: HTTPRequest) -> Result<CurlJob, DeliveryError> {
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            return .failure(DeliveryError(.invalidRequest, "only http:// and https:// URLs are allowed", isRetryable: false))
        }
        guard request.headers.allSatisfy(\.isSafe) else {
            return .failure(DeliveryError(.invalidRequest, "a header name or value contains CR, LF, NUL or ':'", isRetryable: false))
        }
        // An empty "Expect:" stops curl from waiting for 100-continue on larger bodies.
        return .success(.http(request, headerLines: request.headers.map { $0.name + ": " + $0.value } + ["Expect:"]))
    }
}

/// What a finished transfer produced.
enum CurlOutcome: Sendable {
    case http(HTTPResponse)
}

/// The state of one transfer while it is in flight. Lives on the curl thread only.
final class CurlTransfer {
    let id: UInt64
    let job: CurlJob
    let continuation: CheckedContinuation<CurlOutcome, any Error>
    let easy: UnsafeMutableRawPointer
    var lists: [UnsafeMutablePointer<curl_slist>] = []
    var body: [UInt8] = []
    var maxBody = Int.max
    var headers: [HeaderField] = []
    /// The key of the host slot the transfer holds, when the worker limits transfers per host.
    var host: String?

    init(id: UInt64, job: CurlJob, easy: UnsafeMutableRawPointer, continuation: CheckedContinuation<CurlOutcome, any Error>) {
        self.id = id
        self.job = job
        self.easy = easy
        self.continuation = continuation
    }

    /// Frees the header and recipient lists.
    func releaseLists() {
        for list in lists { curl_slist_free_all(list) }
        lists = []
    }

    /// Sets every option of the job, with `timeout` in place of the request's own when given; returns an error when
    /// the job is refused before sending.
    func configure(timeout: Duration? = nil) -> DeliveryError? {
        let me = Unmanaged.passUnretained(self).toOpaque()
        var ok = true
        func long(_ option: CURLoption, _ value: Int) { ok = ok && herald_easy_setopt_long(easy, option, value) == CURLE_OK }
        func string(_ option: CURLoption, _ value: String) { ok = ok && herald_easy_setopt_string(easy, option, value) == CURLE_OK }
        func list(_ option: CURLoption, _ items: [String]) {
            var head: UnsafeMutablePointer<curl_slist>? = nil
            for item in items { head = curl_slist_append(head, item) }
            if let head { lists.append(head) }
            ok = ok && herald_easy_setopt_slist(easy, option, head) == CURLE_OK
        }
        long(CURLOPT_NOSIGNAL, 1)
        ok = ok && herald_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me) == CURLE_OK
        ok = ok && herald_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlWrite) == CURLE_OK
        ok = ok && herald_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me) == CURLE_OK
        long(CURLOPT_TCP_KEEPALIVE, 1)
        let tls: TLSOptions
        switch job {
        case .http(let request, let headerLines):
            tls = request.tls
            maxBody = request.maxResponseBytes
            string(CURLOPT_URL, request.url)
            string(CURLOPT_PROTOCOLS_STR, "http,https")
            string(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
            long(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
            long(CURLOPT_MAXREDIRS, 5)
            long(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
            // Transfers starting together wait to learn whether a new connection multiplexes (HTTP/2) instead of each
            // opening its own.
            long(CURLOPT_PIPEWAIT, 1)
            long(CURLOPT_TIMEOUT_MS, (timeout ?? request.timeout).milliseconds)
            long(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
            ok = ok && herald_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlHeader) == CURLE_OK
            ok = ok && herald_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me) == CURLE_OK
            switch request.method {
            case .get: long(CURLOPT_HTTPGET, 1)
            case .post: long(CURLOPT_POST, 1)
            default: string(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
            if request.method != .get {
                ok = ok && herald_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)) == CURLE_OK
                ok = ok && request.body.withUnsafeBytes { raw in
                    // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                    herald_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) == CURLE_OK
                }
            }
            list(CURLOPT_HTTPHEADER, headerLines)
            if let user = request.username {
                long(CURLOPT_HTTPAUTH, 1)  // CURLAUTH_BASIC, a macro Swift cannot import
                string(CURLOPT_USERNAME, user)
                string(CURLOPT_PASSWORD, request.password ?? "")
            }
        }
        long(CURLOPT_SSL_VERIFYPEER, tls.verifyPeer ? 1 : 0)
        long(CURLOPT_SSL_VERIFYHOST, tls.verifyPeer ? 2 : 0)
        if let ca = tls.caFile { string(CURLOPT_CAINFO, ca) }
        return ok ? nil : DeliveryError(.invalidRequest, "libcurl refused an option", isRetryable: false)
    }

    /// The result once curl reports the transfer done with `code`.
    func outcome(_ code: CURLcode) -> Result<CurlOutcome, DeliveryError> {
        var status = 0
        herald_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        herald_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        switch job {
        case .http(let request, _):
            guard code == CURLE_OK else { return .failure(Self.error(code, status: nil, peer: Self.peer(request.url))) }
            var version = 0
            herald_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
            let v = version == CURL_HTTP_VERSION_2_0 ? 2 : version == CURL_HTTP_VERSION_3 ? 3 : 1
            return .success(.http(HTTPResponse(status: status, headers: headers, body: body, httpVersion: v, reusedConnection: connects == 0)))
        }
    }

    /// Maps a curl failure to a delivery error.
    static func error(_ code: CURLcode, status: Int?, peer: String) -> DeliveryError {
        let text = "\(peer): \(describe(code))"
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return DeliveryError(.timedOut, text, isRetryable: true, status: status)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
             CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            return DeliveryError(.connectionFailed, text, isRetryable: true, status: status)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR, CURLE_USE_SSL_FAILED,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return DeliveryError(.tlsFailed, text, isRetryable: false, status: status)
        case CURLE_LOGIN_DENIED: return DeliveryError(.loginDenied, text, isRetryable: false, status: status)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return DeliveryError(.invalidRequest, text, isRetryable: false, status: status)
        default: return DeliveryError(.transferFailed, text, isRetryable: false, status: status)
        }
    }

    /// curl's text for `code`.
    static func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }

    /// `scheme://host:port` of a URL: never the user info, path or query (they may hold secrets).
    static func peer(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "peer" }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}

extension SMTPRequest {
    /// An address curl can put inside `<…>` without changing the command.
    static func isSafeAddress(_ address: String) -> Bool {
        !address.isEmpty && !address.unicodeScalars.contains { $0.value < 0x21 || $0 == "<" || $0 == ">" || $0.value == 0x7F }
    }
}

/// CURLOPT_WRITEFUNCTION: appends to the body; refuses more than `maxBody` bytes.
private let curlWrite: herald_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    guard transfer.body.count + n <= transfer.maxBody else { return 0 }
    transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: n))
    return n
}

/// CURLOPT_HEADERFUNCTION: collects the headers of the final response, parsed from the raw bytes.
private let curlHeader: herald_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    let line = UnsafeRawBufferPointer(start: buffer, count: n)
    /// Space, tab, CR or LF: what surrounds a header value.
    func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    if line.starts(with: "HTTP/".utf8) {
        transfer.headers.removeAll(keepingCapacity: true)  // a new response (after 100-continue or a redirect) starts over
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        var start = colon + 1, end = n
        while start < end && isBlank(line[start]) { start += 1 }
        while end > start && isBlank(line[end - 1]) { end -= 1 }
        transfer.headers.append(HeaderField(String(decoding: line[..<colon], as: UTF8.self),
                                            String(decoding: line[start..<end], as: UTF8.self)))
    }
    return n
}

extension StringProtocol {
    /// The text without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        let scalars = Substring(self)
        guard let start = scalars.firstIndex(where: { !set.contains($0) }),
              let end = scalars.lastIndex(where: { !set.contains($0) }) else { return "" }
        return String(scalars[start...end])
    }
}
