#if canImport(Glibc)
    import Glibc
#endif

/// The Glibc side of `sd_notify`: AF_UNIX datagram addresses and one `sendto` per message.
enum NotifySocket {
    /// Sends `message` as one datagram to `name` (an absolute path, or `@name` in the abstract
    /// namespace); nil on success, else why it failed.
    static func send(_ message: String, to name: String) -> String? {
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return "socket(): " + errorText(errno) }
            defer { close(fd) }
            let bytes = Array(message.utf8)
            let result: Int? = withAddress(name) { address, length in
                bytes.withUnsafeBytes { buffer in
                    var sent: Int
                    repeat {
                        sent = sendto(
                            fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), address, length)
                    } while sent < 0 && errno == EINTR
                    return sent
                }
            }
            guard let result else {
                return "not an absolute path or @abstract name that fits a sockaddr_un"
            }
            if result < 0 { return "sendto(): " + errorText(errno) }
            if result != bytes.count { return "sendto() sent \(result) of \(bytes.count) bytes" }
            return nil
        #else
            return "sd_notify needs Linux"
        #endif
    }

    #if canImport(Glibc)
        /// Calls `body` with the `sockaddr_un` for `name`, or returns nil when `name` cannot be one.
        ///
        /// A leading `@` means the abstract namespace: the address starts with a NUL byte and its
        /// length counts no terminator, as systemd's own parser does.
        static func withAddress<T>(
            _ name: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
        ) -> T? {
            var bytes = Array(name.utf8)
            let abstract = bytes.first == UInt8(ascii: "@")
            guard abstract || bytes.first == UInt8(ascii: "/") else { return nil }
            if abstract { bytes[0] = 0 }
            var address = sockaddr_un()
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            // A path keeps room for its NUL terminator; an abstract name does not need one.
            guard bytes.count < capacity || (abstract && bytes.count == capacity) else { return nil }
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
            let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
            }
        }

        /// `strerror` text for `code`.
        static func errorText(_ code: Int32) -> String {
            String(cString: strerror(code))
        }
    #endif
}
