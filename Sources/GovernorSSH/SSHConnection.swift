/// An authenticated SSH session to one probe.
///
/// Every method runs on the connection's own thread (see ``DedicatedThreadExecutor``):
/// libssh2's waits never occupy a NIO event loop or the cooperative pool, and one
/// session is never used from two threads at once. Connections are independent, so
/// a probe that hangs delays nothing but its own dispatch.
///
/// ```swift
/// let connection = try await SSHConnection.connect(options)
/// let result = try await connection.run("web100clt -n ndt.example.net", timeout: .seconds(120))
/// await connection.close()
/// ```
public actor SSHConnection {
    private let executor: DedicatedThreadExecutor
    private let session: LibSSH2Session
    public let endpoint: SSHEndpoint

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    private init(endpoint: SSHEndpoint) {
        self.endpoint = endpoint
        self.executor = DedicatedThreadExecutor(name: "ssh \(endpoint)")
        self.session = LibSSH2Session(endpoint: endpoint)
    }

    deinit {
        executor.shutdown()
    }

    /// Connects, verifies the host key against known_hosts and authenticates with the
    /// key file, all within `options.connectTimeout`.
    ///
    /// - Throws: ``SSHError`` saying which step failed and what to check.
    public static func connect(_ options: SSHConnectOptions) async throws(SSHError) -> SSHConnection {
        let connection = SSHConnection(endpoint: options.endpoint)
        try await connection.open(options)
        return connection
    }

    private func open(_ options: SSHConnectOptions) throws(SSHError) {
        try session.connect(options)
    }

    /// Runs `command` and collects its output and exit status.
    ///
    /// - Parameters:
    ///   - startAt: wall-clock seconds since the epoch to send the command at; the
    ///     channel is opened before, so the command starts within a round trip of it.
    ///   - timeout: how long the command may run. Past it the governor sends EOF, the
    ///     probe's shell stops the command (see ``RemoteCommand``) and the result says `timedOut`.
    ///   - outputLimit: the most bytes of stdout and stderr together that are kept.
    /// - Throws: ``SSHError`` when the command could not be started or the connection broke.
    public func run(_ command: String, startAt: Double? = nil, timeout: Duration, outputLimit: Int = 1 << 20) throws(SSHError) -> SSHCommandResult {
        let wrapped = RemoteCommand.stoppable(command)
        // After the EOF at `timeout` the probe sends TERM, then KILL after its grace; the
        // governor gives up on a probe that has not ended the command well after that.
        let hardLimit = timeout + .seconds(RemoteCommand.killGraceSeconds + 5)
        return try session.run(wrapped, startAt: startAt, timeout: timeout, hardLimit: hardLimit, outputLimit: outputLimit)
    }

    /// Disconnects politely; the connection cannot be used afterwards.
    public func close() {
        session.close()
    }
}
