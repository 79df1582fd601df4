#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Opens TCP connections with a deadline, for libssh2 to run a session over.
///
/// The socket is left non-blocking (libssh2 runs in non-blocking mode on it) and has
/// TCP_NODELAY set: without it, the small packets of the channel-open exchange wait
/// for the peer's delayed ACK, which costs about 40 ms per dispatch.
enum TCPConnector {
    /// Connects to the first of the endpoint's addresses that answers.
    ///
    /// - Throws: ``SSHError`` (`unresolvable`, `connectionRefused`, `unreachable` or `connectTimeout`).
    static func connect(to endpoint: SSHEndpoint, until deadline: ContinuousClock.Instant) throws(SSHError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw SSHError(.unresolvable, "cannot resolve \(endpoint.host): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = SSHError(.unreachable, "\(endpoint) has no usable address")
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            do {
                return try connect(address.pointee, endpoint: endpoint, until: deadline)
            } catch {
                lastError = error
                if error.kind == .connectTimeout { break }
            }
        }
        throw lastError
    }

    private static func connect(_ address: addrinfo, endpoint: SSHEndpoint, until deadline: ContinuousClock.Instant) throws(SSHError) -> Int32 {
        let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
        guard fd >= 0 else { throw SSHError(.unreachable, "cannot create a socket for \(endpoint): \(errorText(errno))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

        if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return fd }
        guard errno == EINPROGRESS else {
            let code = errno
            close(fd)
            throw failure(code, endpoint)
        }
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                close(fd)
                throw SSHError(.connectTimeout, "\(endpoint) did not accept a TCP connection in time (connect_timeout)")
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining.milliseconds, 250)))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                if Task.isCancelled {
                    close(fd)
                    throw SSHError(.cancelled, "the connection to \(endpoint) was cancelled")
                }
                continue
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code == 0 { return fd }
            close(fd)
            throw failure(code, endpoint)
        }
    }

    private static func failure(_ code: Int32, _ endpoint: SSHEndpoint) -> SSHError {
        switch code {
        case ECONNREFUSED:
            SSHError(.connectionRefused, "\(endpoint) refused the connection: is sshd running on port \(endpoint.port)?")
        case ETIMEDOUT:
            SSHError(.connectTimeout, "\(endpoint) did not answer: \(errorText(code))")
        default:
            SSHError(.unreachable, "cannot reach \(endpoint): \(errorText(code))")
        }
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a wait never ends before its deadline.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
