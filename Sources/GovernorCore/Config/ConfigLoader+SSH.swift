import Foundation

/// `[SSH]`: push mode's defaults, which each `[Probe ADDRESS]` may override.
extension ConfigLoader {
    /// Read by the SSH dispatcher; listed here so that typos are reported at load time.
    static let sshKeys = [
        "user", "port", "identity", "identity_passphrase_file", "known_hosts", "host_key_check", "command",
        "timeout", "connect_timeout", "max_lateness",
    ]

    /// `[SSH]`: the defaults of every push probe.
    static func readSSH(_ reader: inout SectionReader) -> SSHDefaults {
        var defaults = SSHDefaults()
        let file = reader.file
        defaults.user = reader.singleLine("user")
        if let port = reader.singleLine("port") {
            if let number = Int(port), ConfigLimits.port.contains(number) {
                defaults.port = number
            } else {
                reader.error("'port' is '\(port)'; expected a number from 1 to 65535", line: reader.entry("port")?.line)
            }
        }
        defaults.identity = reader.singleLine("identity").map { ConfigPaths.resolve($0, relativeTo: file) }
        defaults.identityPassphraseFile = reader.singleLine("identity_passphrase_file").map { ConfigPaths.resolve($0, relativeTo: file) }
        defaults.knownHosts = reader.singleLine("known_hosts").map { ConfigPaths.resolve($0, relativeTo: file) }
        if let check = reader.singleLine("host_key_check") {
            if let value = HostKeyCheck(rawValue: check) {
                defaults.hostKeyCheck = value
            } else {
                reader.error("'host_key_check' is '\(check)'; expected strict or accept-new", line: reader.entry("host_key_check")?.line)
            }
        }
        defaults.command = reader.singleLine("command")
        for (key, path, range) in [("timeout", \SSHDefaults.timeoutSeconds, ConfigLimits.sshTimeout),
                                   ("connect_timeout", \.connectTimeoutSeconds, ConfigLimits.connectTimeout),
                                   ("max_lateness", \.maxLatenessSeconds, ConfigLimits.maxLateness)] {
            if let seconds = reader.duration(key, in: range) { defaults[keyPath: path] = seconds }
        }
        return defaults
    }
}
