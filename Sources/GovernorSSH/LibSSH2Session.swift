import CLibSSH2
import GovernorCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One SSH session over libssh2: the only code that touches libssh2's handles.
///
/// libssh2 runs in non-blocking mode; every call that would block returns EAGAIN
/// and the session waits on its socket with `poll`, in slices, so that deadlines
/// are exact and a cancelled task is noticed within a quarter of a second.
///
/// - Important: Not thread-safe, like the libssh2 session it owns. ``SSHConnection``
///   confines it to the connection's own thread.
final class LibSSH2Session {
    private let endpoint: SSHEndpoint
    private var socket: Int32 = -1
    private var session: OpaquePointer?
    /// How long one protocol exchange (channel open, exec request) may take.
    private var requestTimeout: Duration = .seconds(10)

    init(endpoint: SSHEndpoint) {
        self.endpoint = endpoint
    }

    deinit {
        release()
    }

    // MARK: Connecting

    /// Connects, checks the host key and authenticates, all within `connectTimeout`.
    func connect(_ options: SSHConnectOptions) throws(SSHError) {
        let deadline = ContinuousClock.now + options.connectTimeout
        requestTimeout = max(options.connectTimeout, .seconds(1))
        guard LibSSH2Library.initialized else {
            throw SSHError(.handshakeFailed, "libssh2 could not be initialized")
        }
        socket = try TCPConnector.connect(to: endpoint, until: deadline)
        guard let session = governor_libssh2_session_init() else {
            throw SSHError(.handshakeFailed, "libssh2 could not allocate a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)

        let silent = SSHError(.connectTimeout, "\(endpoint) accepted the connection but did not complete the SSH handshake in time (connect_timeout)")
        let handshake = try retrying(until: deadline, orThrow: silent) { libssh2_session_handshake(session, socket) }
        guard handshake == 0 else {
            throw SSHError(.handshakeFailed, "SSH handshake with \(endpoint) failed: \(lastError(handshake))")
        }
        try verifyHostKey(options)
        try authenticate(options, until: deadline)
    }

    private func authenticate(_ options: SSHConnectOptions, until deadline: ContinuousClock.Instant) throws(SSHError) {
        let keyFile = options.identityFile
        guard FileManager.default.isReadableFile(atPath: keyFile) else {
            throw SSHError(.identityUnusable, "cannot read the private key \(keyFile) (identity): it does not exist or the governor's user may not read it")
        }
        let slow = SSHError(.connectTimeout, "\(endpoint) did not finish authenticating in time (connect_timeout)")
        let status = try retrying(until: deadline, orThrow: slow) {
            governor_libssh2_userauth_publickey_fromfile(session, options.user, keyFile, options.identityPassphrase)
        }
        switch status {
        case 0:
            return
        case LIBSSH2_ERROR_FILE, LIBSSH2_ERROR_KEYFILE_AUTH_FAILED, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
            let hint = options.identityPassphrase == nil ? " (if it is encrypted, set identity_passphrase_file)" : " (is identity_passphrase_file right?)"
            throw SSHError(.identityUnusable, "cannot use the private key \(keyFile): \(lastError(status))\(hint)")
        case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
            var message = "\(options.user)@\(endpoint) refused the key \(keyFile): is its public key in ~\(options.user)/.ssh/authorized_keys on the probe?"
            if PrivateKeyFile.isRSA(keyFile) {
                message += " libssh2 \(LibSSH2Library.version) signs with RSA/SHA-1, which OpenSSH 8.8 and later refuse by default; use an ed25519 or ECDSA key"
            }
            throw SSHError(.authenticationFailed, message)
        default:
            throw SSHError(.handshakeFailed, "authentication with \(endpoint) failed: \(lastError(status))")
        }
    }

    // MARK: Host keys

    private func verifyHostKey(_ options: SSHConnectOptions) throws(SSHError) {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type) else {
            throw SSHError(.handshakeFailed, "\(endpoint) sent no host key")
        }
        let fingerprint = hostKeyFingerprint()
        guard let keyType = Self.knownHostKeyType(type) else {
            throw SSHError(.hostKeyUnknown, "\(endpoint) offered a host key of a type libssh2 cannot record (\(fingerprint))")
        }
        let path = options.knownHostsFile
        func check() throws(SSHError) -> Int32 {
            let hosts = try loadKnownHosts(path)
            defer { libssh2_knownhost_free(hosts) }
            return libssh2_knownhost_checkp(hosts, endpoint.host, Int32(endpoint.port), key, length, Self.plainRaw | keyType, nil)
        }
        var result = try check()
        if result == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND && options.hostKeyPolicy == .acceptNew {
            // Another dispatch may be adding the same host: check again under the lock, then append.
            result = try KnownHostsWriter.lock.withLock { _ throws(SSHError) -> Int32 in
                let again = try check()
                if again == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND {
                    try appendKnownHost(key: key, length: length, keyType: keyType, to: path)
                    return LIBSSH2_KNOWNHOST_CHECK_MATCH
                }
                return again
            }
        }
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            throw SSHError(.hostKeyChanged, "the host key of \(endpoint) has changed (it now offers \(fingerprint)) and does not match \(path); if the probe was reinstalled, remove its old line with 'ssh-keygen -R \(knownHostsName) -f \(path)'")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            throw SSHError(.hostKeyUnknown, "the host key of \(endpoint) (\(fingerprint)) is not in \(path) and host_key_check is strict; add it with 'ssh-keyscan -p \(endpoint.port) \(endpoint.host) >> \(path)' after checking the fingerprint, or use host_key_check = accept-new")
        default:
            throw SSHError(.knownHostsUnusable, "cannot check the host key of \(endpoint) against \(path): \(lastError(result))")
        }
    }

    /// The known_hosts file, read line by line: a line libssh2 cannot parse (a
    /// certificate authority, a security-key type) is skipped, not fatal.
    private func loadKnownHosts(_ path: String) throws(SSHError) -> OpaquePointer {
        guard let hosts = libssh2_knownhost_init(session) else {
            throw SSHError(.knownHostsUnusable, "libssh2 could not allocate a known-hosts list")
        }
        guard FileManager.default.fileExists(atPath: path) else { return hosts }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            libssh2_knownhost_free(hosts)
            throw SSHError(.knownHostsUnusable, "cannot read \(path) (known_hosts): \(error.localizedDescription)")
        }
        for line in text.split(whereSeparator: \.isNewline) {
            let entry = line.drop { $0 == " " || $0 == "\t" }
            if entry.isEmpty || entry.hasPrefix("#") || entry.hasPrefix("@") { continue }
            _ = String(entry).withCString { libssh2_knownhost_readline(hosts, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
        }
        return hosts
    }

    private func appendKnownHost(key: UnsafePointer<CChar>, length: Int, keyType: Int32, to path: String) throws(SSHError) {
        guard let hosts = libssh2_knownhost_init(session) else {
            throw SSHError(.knownHostsUnusable, "libssh2 could not allocate a known-hosts list")
        }
        defer { libssh2_knownhost_free(hosts) }
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        guard libssh2_knownhost_addc(hosts, knownHostsName, nil, key, length, nil, 0, Self.plainRaw | keyType, &entry) == 0, let entry else {
            throw SSHError(.knownHostsUnusable, "cannot record the host key of \(endpoint): \(lastError(LIBSSH2_ERROR_KNOWN_HOSTS))")
        }
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        var written = 0
        guard libssh2_knownhost_writeline(hosts, entry, &buffer, buffer.count, &written, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0 else {
            throw SSHError(.knownHostsUnusable, "cannot format the host key of \(endpoint) for \(path)")
        }
        var line = buffer.prefix(written).map { UInt8(bitPattern: $0) }
        if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
        do {
            try KnownHostsWriter.append(line, to: path)
        } catch {
            throw SSHError(.knownHostsUnusable, "cannot add the host key of \(endpoint) to \(path): \(error.localizedDescription)")
        }
    }

    /// The host as known_hosts names it: `host`, or `[host]:port` off port 22.
    private var knownHostsName: String {
        endpoint.port == 22 ? endpoint.host : "[\(endpoint.host)]:\(endpoint.port)"
    }

    /// `SHA256:…`, the form `ssh-keygen -lf` and OpenSSH's prompts show.
    private func hostKeyFingerprint() -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "unknown fingerprint" }
        let bytes = UnsafeRawPointer(hash).assumingMemoryBound(to: UInt8.self)
        let digest = Data(UnsafeBufferPointer(start: bytes, count: 32))
        return "SHA256:" + digest.base64EncodedString().replacing("=", with: "")
    }

    private static let plainRaw = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW

    /// The known-hosts type bits for a `LIBSSH2_HOSTKEY_TYPE_*` value.
    private static func knownHostKeyType(_ type: Int32) -> Int32? {
        let number: Int32? = switch type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: 2
        case LIBSSH2_HOSTKEY_TYPE_DSS: 3
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: 4
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: 5
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: 6
        case LIBSSH2_HOSTKEY_TYPE_ED25519: 7
        default: nil
        }
        return number.map { $0 << LIBSSH2_KNOWNHOST_KEY_SHIFT }
    }

    // MARK: Running a command

    /// Opens a channel and sends `command` (armed by ``RemoteCommand``), waits until
    /// `startAt` (wall-clock seconds), starts it with ``RemoteCommand/startLine`` and
    /// collects its output until it ends. At `timeout` it sends EOF (which stops a
    /// command wrapped by ``RemoteCommand``); at `hardLimit` it gives up.
    func run(_ command: String, startAt: Double?, timeout: Duration, hardLimit: Duration, outputLimit: Int) throws(SSHError) -> SSHCommandResult {
        guard let session else { throw SSHError(.channelFailed, "the session with \(endpoint) is closed") }
        let stalled = SSHError(.channelFailed, "\(endpoint) did not open a channel in time")
        var channel: OpaquePointer?
        let openDeadline = ContinuousClock.now + requestTimeout
        while channel == nil {
            channel = governor_libssh2_channel_open_session(session)
            if channel == nil {
                let code = libssh2_session_last_errno(session)
                guard code == LIBSSH2_ERROR_EAGAIN else {
                    throw SSHError(.channelFailed, "\(endpoint) refused a session channel: \(lastError(code))")
                }
                try waitForSocket(until: openDeadline, orThrow: stalled)
            }
        }
        guard let channel else { throw stalled }
        defer { release(channel) }

        // Armed ahead: the probe's session and shell start now and wait for the start line.
        let refused = SSHError(.channelFailed, "\(endpoint) did not answer the exec request in time")
        let exec = try retrying(until: ContinuousClock.now + requestTimeout, orThrow: refused) { governor_libssh2_channel_exec(channel, command) }
        guard exec == 0 else {
            throw SSHError(.channelFailed, "\(endpoint) refused to run the command: \(lastError(exec))")
        }
        if let startAt, !WallClock.sleep(until: startAt) {
            throw SSHError(.cancelled, "the wait for the run time was cancelled")
        }
        let startedAt = WallClock.now()
        let unsent = SSHError(.channelFailed, "\(endpoint) did not take the start of the command in time")
        let start = try retrying(until: ContinuousClock.now + requestTimeout, orThrow: unsent) {
            RemoteCommand.startLine.withCString { Int32(clamping: governor_libssh2_channel_write(channel, $0, strlen($0))) }
        }
        guard start == RemoteCommand.startLine.utf8.count else {
            throw SSHError(.channelFailed, "the connection to \(endpoint) broke at the start of the command: \(lastError(start))")
        }

        let started = ContinuousClock.now
        let softDeadline = started + timeout
        let hardDeadline = started + hardLimit
        var output = OutputCollector(limit: outputLimit)
        var ended = false
        var stopping = false
        var buffer = [CChar](repeating: 0, count: 32 * 1024)
        while !ended {
            var progressed = false
            for stream: Int32 in [0, 1] {
                while true {
                    let count = buffer.withUnsafeMutableBufferPointer { governor_libssh2_channel_read(channel, stream, $0.baseAddress, $0.count) }
                    if count > 0 {
                        buffer.withUnsafeBufferPointer { output.append(UnsafeRawBufferPointer($0).prefix(count), stderr: stream == 1) }
                        progressed = true
                        continue
                    }
                    if count < 0 && Int32(count) != LIBSSH2_ERROR_EAGAIN {
                        throw SSHError(.channelFailed, "the connection to \(endpoint) broke while the command ran: \(lastError(Int32(count)))")
                    }
                    break
                }
            }
            if libssh2_channel_eof(channel) != 0 {
                ended = true
                continue
            }
            let now = ContinuousClock.now
            if now >= hardDeadline { break }
            if !stopping && now >= softDeadline {
                // The end of stdin tells the probe's watchdog to stop the command.
                stopping = true
                _ = try? retrying(until: now + .seconds(2), orThrow: stalled) { libssh2_channel_send_eof(channel) }
                continue
            }
            if !progressed {
                do {
                    try waitForSocket(until: stopping ? hardDeadline : softDeadline, orThrow: stalled)
                } catch where error.kind == .cancelled {
                    throw error
                } catch {
                    continue  // a deadline passed; the checks above act on it
                }
            }
        }
        let closing = ContinuousClock.now + .seconds(2)
        if ended {
            _ = try? retrying(until: closing, orThrow: stalled) { libssh2_channel_close(channel) }
            _ = try? retrying(until: closing, orThrow: stalled) { libssh2_channel_wait_closed(channel) }
        }
        let finishedAt = WallClock.now()
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
        let exitSignal = signal.map { String(cString: $0) }
        if let signal { libssh2_free(session, signal) }
        let exitStatus = ended && exitSignal == nil ? Int(libssh2_channel_get_exit_status(channel)) : nil
        let timedOut = !ended || stopping
        return SSHCommandResult(
            exitStatus: exitStatus, exitSignal: exitSignal, stdout: output.stdout, stderr: output.stderr,
            outputTruncated: output.truncated, timedOut: timedOut, startedAt: startedAt, finishedAt: finishedAt)
    }

    // MARK: Closing

    /// Says goodbye to the server and frees the session; safe to call twice.
    func close() {
        guard let session else { return }
        let deadline = ContinuousClock.now + .seconds(2)
        let ignored = SSHError(.channelFailed, "")
        _ = try? retrying(until: deadline, orThrow: ignored) { governor_libssh2_session_disconnect(session, "governor: done") }
        release()
    }

    private func release(_ channel: OpaquePointer) {
        guard let session else { return }
        // Freeing may need to send a close; let it block briefly instead of spinning on EAGAIN.
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, 2000)
        libssh2_channel_free(channel)
        libssh2_session_set_blocking(session, 0)
    }

    private func release() {
        if let session {
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, 2000)
            libssh2_session_free(session)
            self.session = nil
        }
        if socket >= 0 {
            Glibc.close(socket)
            socket = -1
        }
    }

    // MARK: Waiting

    /// Calls `call` until it stops returning EAGAIN, waiting on the socket in between.
    private func retrying(until deadline: ContinuousClock.Instant, orThrow timeout: SSHError, _ call: () -> Int32) throws(SSHError) -> Int32 {
        while true {
            let status = call()
            guard status == LIBSSH2_ERROR_EAGAIN else { return status }
            try waitForSocket(until: deadline, orThrow: timeout)
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, for at
    /// most 250 ms at a time.
    private func waitForSocket(until deadline: ContinuousClock.Instant, orThrow timeout: SSHError) throws(SSHError) {
        if Task.isCancelled { throw SSHError(.cancelled, "the work with \(endpoint) was cancelled") }
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw timeout }
        let directions = session.map(libssh2_session_block_directions) ?? 0
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        // Blocked on nothing in particular: retry soon rather than wait for input that may not come.
        let slice = events == 0 ? 5 : 250
        var descriptor = pollfd(fd: socket, events: events == 0 ? Int16(POLLIN) : events, revents: 0)
        _ = poll(&descriptor, 1, Int32(min(remaining.milliseconds, slice)))
    }

    /// libssh2's own description of the last error, with its code.
    private func lastError(_ code: Int32) -> String {
        guard let session else { return "error \(code)" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(code)" }
        return String(cString: message)
    }
}

/// libssh2's process-wide initialization, done once.
enum LibSSH2Library {
    static let initialized: Bool = libssh2_init(0) == 0
    static let version: String = libssh2_version(0).map { String(cString: $0) } ?? LIBSSH2_VERSION
}

/// Serializes additions to known_hosts files across connections.
enum KnownHostsWriter {
    static let lock = Mutex(())

    /// Appends `line` with O_APPEND, so that lines other programs wrote stay as they are.
    static func append(_ line: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { Glibc.close(fd) }
        // A file whose last line lacks its newline would glue the new entry onto it.
        var last: UInt8 = 0
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        if reader >= 0 {
            if lseek(reader, -1, SEEK_END) >= 0 { _ = read(reader, &last, 1) }
            Glibc.close(reader)
        }
        let bytes = (last != 0 && last != UInt8(ascii: "\n")) ? [UInt8(ascii: "\n")] + line : line
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}
