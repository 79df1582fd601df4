/// Where to connect: a host name or address, and a TCP port.
public struct SSHEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 22) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 address in brackets, as OpenSSH and the logs write it.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// How an unknown or changed host key is treated, after OpenSSH's `StrictHostKeyChecking`.
public enum HostKeyPolicy: String, Sendable, CaseIterable {
    /// Refuse a host whose key is not in known_hosts, and a changed key.
    case strict
    /// Record the key of a host seen for the first time; refuse a changed key.
    case acceptNew = "accept-new"
}

/// Everything needed to open an authenticated session to a probe.
public struct SSHConnectOptions: Sendable {
    public var endpoint: SSHEndpoint
    public var user: String
    /// A private key file in OpenSSH or PEM format.
    public var identityFile: String
    public var identityPassphrase: String?
    public var knownHostsFile: String
    public var hostKeyPolicy: HostKeyPolicy
    /// Bounds everything up to an authenticated session: TCP connect, handshake, authentication.
    public var connectTimeout: Duration

    public init(
        endpoint: SSHEndpoint, user: String, identityFile: String, identityPassphrase: String? = nil,
        knownHostsFile: String, hostKeyPolicy: HostKeyPolicy = .strict, connectTimeout: Duration = .seconds(10)
    ) {
        self.endpoint = endpoint
        self.user = user
        self.identityFile = identityFile
        self.identityPassphrase = identityPassphrase
        self.knownHostsFile = knownHostsFile
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
    }
}

/// What a remote command did.
public struct SSHCommandResult: Sendable {
    /// The exit status; nil when the command was killed by a signal or did not finish.
    public var exitStatus: Int?
    /// The signal that ended the command (`TERM`, `KILL`…), if one did.
    public var exitSignal: String?
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// Whether more output came than was kept (see `outputLimit`).
    public var outputTruncated: Bool
    /// Whether the command ran past its timeout and was stopped.
    public var timedOut: Bool
    /// Wall-clock seconds since the epoch when the exec request was sent.
    public var startedAt: Double
    /// Wall-clock seconds since the epoch when the command's channel closed.
    public var finishedAt: Double

    public init(exitStatus: Int?, exitSignal: String?, stdout: [UInt8], stderr: [UInt8], outputTruncated: Bool, timedOut: Bool, startedAt: Double, finishedAt: Double) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
        self.outputTruncated = outputTruncated
        self.timedOut = timedOut
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// Why a connection or a command failed, in words an operator can act on.
///
/// ``kind`` is stable and machine-readable (it is stored with failed results);
/// ``message`` names the probe's address, the file or the server's answer.
public struct SSHError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The host name does not resolve.
        case unresolvable = "unresolvable"
        /// The probe answered the TCP connection with a reset: nothing listens on the port.
        case connectionRefused = "connection-refused"
        /// No route to the probe, or the network is down.
        case unreachable = "unreachable"
        /// `connect_timeout` passed before the session was authenticated.
        case connectTimeout = "connect-timeout"
        /// The SSH handshake failed (not an SSH server, no common algorithm, connection dropped).
        case handshakeFailed = "handshake-failed"
        /// The probe's host key is not in known_hosts and the policy is `strict`.
        case hostKeyUnknown = "host-key-unknown"
        /// The probe's host key differs from the one in known_hosts.
        case hostKeyChanged = "host-key-changed"
        /// known_hosts cannot be read or written.
        case knownHostsUnusable = "known-hosts"
        /// The probe refused the key.
        case authenticationFailed = "auth-failed"
        /// The private key file cannot be read or decrypted, or its type is unsupported.
        case identityUnusable = "identity"
        /// The probe refused to run the command, or the channel broke while it ran.
        case channelFailed = "channel-failed"
        /// The task was cancelled (the governor is stopping).
        case cancelled = "cancelled"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
