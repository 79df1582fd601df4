/// The `[SSH]` section of `governor.cfg`: defaults for every push probe.
public struct SSHDefaults: Sendable, Equatable {
    public var user: String?
    public var port: Int?
    /// Paths are resolved against the directory of `governor.cfg`.
    public var identity: String?
    public var identityPassphraseFile: String?
    public var knownHosts: String?
    public var hostKeyCheck: HostKeyCheck?
    public var command: String?
    public var timeoutSeconds: Int?
    public var connectTimeoutSeconds: Int?
    public var maxLatenessSeconds: Int?

    public init() {}
}

/// `host_key_check`: what to do with a host key that is not in known_hosts.
public enum HostKeyCheck: String, Sendable, CaseIterable {
    case strict
    case acceptNew = "accept-new"
}

/// Everything needed to dispatch one push probe's test: the probe's `[Probe ADDRESS]`
/// keys over the `[SSH]` defaults, with the address's own user and port first.
public struct PushTarget: Sendable, Equatable {
    public var probe: String
    public var school: String
    public var host: String
    public var port: Int
    public var user: String
    public var identity: String
    public var identityPassphraseFile: String?
    public var knownHosts: String
    public var hostKeyCheck: HostKeyCheck
    /// The command as configured, placeholders not yet expanded.
    public var command: String
    public var timeoutSeconds: Int
    public var connectTimeoutSeconds: Int
    public var maxLatenessSeconds: Int

    public static let defaultPort = 22
    public static let defaultTimeoutSeconds = 120
    public static let defaultConnectTimeoutSeconds = 10
    public static let defaultMaxLatenessSeconds = 60
    public static let defaultKnownHostsName = "known_hosts"

    /// Resolves the settings of push probe `probe` of `school`.
    ///
    /// - Throws: ``PushTargetError`` when the probe is not a push probe or a required
    ///   setting (`command`, `identity`, a user) is set nowhere.
    public static func resolve(_ probe: ProbeConfig, of school: SchoolConfig, governor: GovernorSettings) throws(PushTargetError) -> PushTarget {
        guard probe.mode == .push, let address = probe.address else {
            throw PushTargetError(probe: probe.name, message: "'\(probe.name)' is a pull probe, listed under [Probes] ids; only addresses are dispatched over SSH")
        }
        let defaults = governor.sshDefaults
        let own = probe.settings
        func seconds(_ key: String, _ fallback: Int?, _ standard: Int) -> Int {
            own[key].flatMap { DurationValue.seconds($0) } ?? fallback ?? standard
        }
        guard let user = address.user ?? own["user"] ?? defaults.user else {
            throw PushTargetError(probe: probe.name, message: "push probe '\(probe.name)' has no SSH user: set 'user' in [SSH] of \(governor.file), or write the address as USER@\(address.host)")
        }
        guard let identity = own["identity"].map({ ConfigPaths.resolve($0, relativeTo: school.file) }) ?? defaults.identity else {
            throw PushTargetError(probe: probe.name, message: "push probe '\(probe.name)' has no private key: set 'identity' in [SSH] of \(governor.file) (docs/push-mode.md says how to make one)")
        }
        guard let command = own["command"] ?? defaults.command else {
            throw PushTargetError(probe: probe.name, message: "push probe '\(probe.name)' has no test to run: set 'command' in [SSH] of \(governor.file) (e.g. web100clt -n SERVER --disablesfw --disablemid)")
        }
        let stateDirectory = ConfigPaths.directory(of: governor.statePath)
        return PushTarget(
            probe: probe.name, school: school.name, host: address.host,
            port: address.port ?? own["port"].flatMap { Int($0) } ?? defaults.port ?? defaultPort,
            user: user, identity: identity,
            identityPassphraseFile: own["identity_passphrase_file"].map { ConfigPaths.resolve($0, relativeTo: school.file) } ?? defaults.identityPassphraseFile,
            knownHosts: own["known_hosts"].map { ConfigPaths.resolve($0, relativeTo: school.file) } ?? defaults.knownHosts
                ?? stateDirectory + "/" + defaultKnownHostsName,
            hostKeyCheck: own["host_key_check"].flatMap(HostKeyCheck.init(rawValue:)) ?? defaults.hostKeyCheck ?? .strict,
            command: command,
            timeoutSeconds: seconds("timeout", defaults.timeoutSeconds, defaultTimeoutSeconds),
            connectTimeoutSeconds: seconds("connect_timeout", defaults.connectTimeoutSeconds, defaultConnectTimeoutSeconds),
            maxLatenessSeconds: defaults.maxLatenessSeconds ?? defaultMaxLatenessSeconds)
    }

    /// The command with `{probe}`, `{school}` and `{run_at}` (RFC 3339, UTC) filled in.
    /// Other braces are left alone: shell commands use them too.
    public func expandedCommand(runAt: UnixTime) -> String {
        command
            .replacing("{probe}", with: probe)
            .replacing("{school}", with: school)
            .replacing("{run_at}", with: RFC3339.format(runAt))
    }
}

/// A push probe that cannot be dispatched as configured.
public struct PushTargetError: Error, Sendable, CustomStringConvertible {
    public var probe: String
    public var message: String

    public var description: String { message }
}
