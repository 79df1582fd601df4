import Foundation
import GovernorCore

/// `/etc/governor-probe/probe.cfg`: who the probe is, where its governor is, what it runs.
public struct ProbeSettings: Sendable, Equatable {
    public var id: String
    public var token: String?
    public var server: String
    public var command: String
    public var timeoutSeconds: Int = 120
    public var maxClockOffsetSeconds: Double = 1
    public var queueDirectory: String
    /// How long a result that the governor does not take is retried before it is
    /// moved to the `rejected` folder beside the queue.
    public var queueMaxAgeSeconds: Int = 7 * 86_400
    /// How far ahead the probe leases its runs, to run them through an outage of the
    /// governor; 0 asks for the next run only, before each run.
    public var leaseSeconds: Int = 86_400
    /// How long the probe waits at most before it asks the governor again while its
    /// next run is further away: a school reopened by a reload is heard of within it.
    public var askIntervalSeconds: Int = ProbeSettings.maxAskIntervalSeconds
    /// The longest `ask_interval` (5 minutes), and its default.
    public static let maxAskIntervalSeconds = 300

    /// Where the last run time started is kept, so that no run time is run twice,
    /// across restarts and clock steps too: beside the result queue.
    public var lastRunPath: String {
        ((queueDirectory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("last_run")
    }

    /// Where the lease is kept: beside the result queue.
    public var leasePath: String {
        ((queueDirectory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lease.json")
    }

    /// The file the package installs; `/etc/governor/probe.cfg`, where 0.3's manual
    /// install put it, is read when only that one exists.
    public static var defaultPath: String {
        let packaged = "/etc/governor-probe/probe.cfg", manual = "/etc/governor/probe.cfg"
        return !FileManager.default.fileExists(atPath: packaged) && FileManager.default.fileExists(atPath: manual) ? manual : packaged
    }
    public static let defaultQueue = "/var/lib/governor-probe/queue"
    static let keys = ["id", "token", "token_file", "server", "command", "timeout", "max_clock_offset", "queue", "queue_max_age", "lease", "ask_interval"]

    public init(id: String, token: String?, server: String, command: String, timeoutSeconds: Int = 120,
                maxClockOffsetSeconds: Double = 1, queueDirectory: String = ProbeSettings.defaultQueue) {
        self.id = id
        self.token = token
        self.server = server
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.maxClockOffsetSeconds = maxClockOffsetSeconds
        self.queueDirectory = queueDirectory
    }

    /// Values read from a file (any may be missing) and overridden by flags.
    public struct Overrides: Sendable {
        public var id: String?
        public var server: String?
        public var tokenFile: String?
        public var command: String?

        public init(id: String? = nil, server: String? = nil, tokenFile: String? = nil, command: String? = nil) {
            self.id = id
            self.server = server
            self.tokenFile = tokenFile
            self.command = command
        }
    }

    /// Reads `path` (when it exists or was named) and applies `overrides`.
    ///
    /// - Throws: ``ProbeError`` naming the file and line, or the missing setting.
    public static func load(path: String?, overrides: Overrides) throws(ProbeError) -> ProbeSettings {
        var values: [String: (value: String, line: Int)] = [:]
        var file = path ?? defaultPath
        if path != nil || FileManager.default.fileExists(atPath: file) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ProbeError("cannot read \(file)")
            }
            let (document, problems) = INIParser.parse(text, file: file)
            if let problem = problems.first(where: \.isError) { throw ProbeError(problem.description) }
            guard let section = document.section("Probe") else { throw ProbeError("\(file): missing section [Probe]") }
            for entry in section.entries {
                guard keys.contains(entry.key) else {
                    throw ProbeError("\(file):\(entry.line): unknown key '\(entry.key)' in [Probe] (known keys: \(keys.joined(separator: ", ")))")
                }
                values[entry.key] = (entry.value, entry.line)
            }
        } else {
            file = "the command line"
        }
        func place(_ key: String) -> String { values[key].map { "\(file):\($0.line)" } ?? file }

        guard let id = overrides.id ?? values["id"]?.value, ProbeConfig.isValidID(id) else {
            throw ProbeError("\(place("id")): 'id' is missing or not a probe id (\(ProbeConfig.idRule)); set it in [Probe] or with --id")
        }
        guard let server = overrides.server ?? values["server"]?.value, server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw ProbeError("\(place("server")): 'server' is missing or not an http(s) URL; set it in [Probe] or with --server (e.g. http://governor.example.org:8080)")
        }
        guard let command = overrides.command ?? values["command"]?.value else {
            throw ProbeError("\(place("command")): 'command' is missing: the test to run, e.g. an NDT client; set it in [Probe] or after --")
        }
        var token = values["token"]?.value
        if let tokenFile = overrides.tokenFile ?? values["token_file"]?.value {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ProbeError("\(place("token_file")): cannot read the token file \(tokenFile)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var settings = ProbeSettings(id: id, token: token, server: server.hasSuffix("/") ? String(server.dropLast()) : server, command: command)
        if let text = values["timeout"]?.value {
            guard let seconds = DurationValue.seconds(text), seconds > 0 else { throw ProbeError("\(place("timeout")): 'timeout' is '\(text)'; expected a duration such as 120s or 2m") }
            settings.timeoutSeconds = seconds
        }
        if let text = values["max_clock_offset"]?.value {
            guard let seconds = Double(text.replacing("s", with: "")), seconds > 0 else {
                throw ProbeError("\(place("max_clock_offset")): 'max_clock_offset' is '\(text)'; expected seconds such as 1 or 0.5")
            }
            settings.maxClockOffsetSeconds = seconds
        }
        if let queue = values["queue"]?.value { settings.queueDirectory = queue }
        if let text = values["queue_max_age"]?.value {
            guard let seconds = DurationValue.seconds(text), seconds > 0 else {
                throw ProbeError("\(place("queue_max_age")): 'queue_max_age' is '\(text)'; expected a duration such as 7d, 168h or 30m")
            }
            settings.queueMaxAgeSeconds = seconds
        }
        if let text = values["lease"]?.value {
            guard let seconds = DurationValue.seconds(text), (0...(7 * 86_400)).contains(seconds) else {
                throw ProbeError("\(place("lease")): 'lease' is '\(text)'; expected a duration from 0 (ask before each run) to 7d, such as 24h")
            }
            settings.leaseSeconds = seconds
        }
        if let text = values["ask_interval"]?.value {
            guard let seconds = DurationValue.seconds(text), (1...maxAskIntervalSeconds).contains(seconds) else {
                throw ProbeError("\(place("ask_interval")): 'ask_interval' is '\(text)'; expected a duration from 1s to 5m, such as 5m")
            }
            settings.askIntervalSeconds = seconds
        }
        return settings
    }
}
