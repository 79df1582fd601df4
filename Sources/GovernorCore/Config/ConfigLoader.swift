import Foundation

/// Loads `governor.cfg` and the school files it names, validating as it goes.
///
/// One bad school file never stops the others: the loader returns the schools that
/// are valid and every problem (with file and line) it found in the rest.
public enum ConfigLoader {
    static let governorKeys = [
        "schools", "listen", "state", "timezone", "test_duration", "seed", "require_tokens",
        "admin_token_sha256", "results_log", "public_url", "max_output",
    ]
    /// Read by the alerting component; listed here so that typos are reported at load time.
    static let alertsKeys = [
        "smtp", "starttls", "username", "password_file", "from", "to", "sendmail", "grace", "missed_runs", "repeat", "retry_max",
    ]
    /// Read by the SSH dispatcher; listed here so that typos are reported at load time.
    static let sshKeys = [
        "user", "port", "identity", "identity_passphrase_file", "known_hosts", "host_key_check", "command",
        "timeout", "connect_timeout", "max_lateness",
    ]
    static let schoolKeys = ["name", "timezone", "alert_to"]
    static let timingKeys = ["boundaries", "runs_per_period", "delay", "test_duration", "overnight"]
    static let probesKeys = ["ids", "addresses"]
    static let probeSectionPrefix = "Probe "

    /// Loads the main file at `path` and every school.
    ///
    /// - Throws: ``ConfigurationError`` when the main file cannot be read or parsed,
    ///   or its `[Governor]` section is invalid; school problems are returned instead.
    public static func load(governorFile path: String) throws(ConfigurationError) -> Configuration {
        let parsed: (document: INIDocument, problems: [ConfigProblem])
        do {
            parsed = try INIParser.read(contentsOf: path)
        } catch {
            throw ConfigurationError(problems: [error])
        }
        guard parsed.problems.isEmpty else { throw ConfigurationError(problems: parsed.problems) }
        let document = parsed.document

        var problems: [ConfigProblem] = []
        let governor = readGovernor(document, problems: &problems)
        guard !problems.containsError else { throw ConfigurationError(problems: problems) }

        var schools: [SchoolConfig] = []
        let holdsSchool = ["Timing", "Probes", "School"].contains { document.section($0) != nil }
        if holdsSchool {
            let (school, schoolProblems) = readSchool(document, governor: governor, ignoring: ["Governor", "Alerts", "SSH"])
            problems += schoolProblems
            if let school { schools.append(school) }
        }
        if let directory = governor.schoolsDirectory {
            for file in schoolFiles(in: directory, declaredIn: document, problems: &problems) {
                let (school, schoolProblems) = loadSchool(file: file, governor: governor)
                problems += schoolProblems
                if let school { schools.append(school) }
            }
        }
        if schools.isEmpty && !problems.containsError {
            problems.append(.warning(path, "no school is configured: add [Timing] and [Probes] to this file, or set 'schools' in [Governor] to a directory of school files"))
        }
        let (unique, clashes) = rejectClashes(schools)
        return Configuration(governor: governor, schools: unique, problems: problems + clashes)
    }

    /// Loads one school file.
    ///
    /// - Returns: the school, or nil with at least one error among the problems.
    public static func loadSchool(file: String, governor: GovernorSettings) -> (SchoolConfig?, [ConfigProblem]) {
        do {
            let (document, problems) = try INIParser.read(contentsOf: file)
            guard problems.isEmpty else { return (nil, problems) }
            return readSchool(document, governor: governor, ignoring: [])
        } catch {
            return (nil, [error])
        }
    }

    /// The `*.cfg` files of the schools directory, in name order.
    static func schoolFiles(in directory: String, declaredIn document: INIDocument, problems: inout [ConfigProblem]) -> [String] {
        let line = document.section("Governor")?["schools"]?.line
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            problems.append(.error(document.file, line: line, "the schools directory '\(directory)' does not exist or is not a directory"))
            return []
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            problems.append(.error(document.file, line: line, "the schools directory '\(directory)' cannot be read (check its permissions)"))
            return []
        }
        return names.filter { $0.hasSuffix(".cfg") && !$0.hasPrefix(".") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    // MARK: - [Governor]

    static func readGovernor(_ document: INIDocument, problems: inout [ConfigProblem]) -> GovernorSettings {
        var settings = GovernorSettings(file: document.file)
        for section in document.sections {
            let known = ["Governor", "Alerts", "SSH", "Timing", "Probes", "School"]
            if !known.contains(section.name) && !section.name.hasPrefix(probeSectionPrefix) {
                problems.append(unknownSection(section, in: document.file, known: known))
            }
        }
        settings.alerts = document.section("Alerts")
        settings.ssh = document.section("SSH")
        if let alerts = settings.alerts {
            var reader = SectionReader(alerts, in: document, knownKeys: alertsKeys)
            settings.alertSettings = readAlerts(&reader)
            problems += reader.problems
        }
        if let ssh = settings.ssh {
            var reader = SectionReader(ssh, in: document, knownKeys: sshKeys)
            settings.sshDefaults = readSSH(&reader)
            problems += reader.problems
        }
        guard let section = document.section("Governor") else { return settings }
        var reader = SectionReader(section, in: document, knownKeys: governorKeys)
        defer { problems += reader.problems }

        if let schools = reader.singleLine("schools") {
            settings.schoolsDirectory = ConfigPaths.resolve(schools, relativeTo: document.file)
        }
        if let listen = reader.singleLine("listen") {
            if let address = ListenAddress(parsing: listen) {
                settings.listen = address
            } else {
                reader.error("'listen' is '\(listen)'; expected ADDRESS:PORT such as 127.0.0.1:8080 or [::1]:8080", line: reader.entry("listen")?.line)
            }
        }
        if let state = reader.singleLine("state") {
            settings.statePath = ConfigPaths.resolve(state, relativeTo: document.file)
        }
        if let zone = reader.timeZone("timezone") {
            settings.timeZone = zone.zone
            settings.timeZoneName = zone.name
        }
        if let duration = reader.duration("test_duration") {
            if duration > 0 {
                settings.testDurationSeconds = duration
            } else {
                reader.error("'test_duration' must be longer than zero", line: reader.entry("test_duration")?.line)
            }
        }
        if let seed = reader.singleLine("seed") {
            if let value = UInt64(seed) {
                settings.seed = value
            } else {
                reader.error("'seed' is '\(seed)'; expected a whole number from 0 to \(UInt64.max)", line: reader.entry("seed")?.line)
            }
        }
        if let require = reader.bool("require_tokens") { settings.requireTokens = require }
        if let hash = reader.singleLine("admin_token_sha256") {
            if isSHA256Hex(hash) {
                settings.adminTokenSHA256 = hash.lowercased()
            } else {
                reader.error("'admin_token_sha256' must be 64 hexadecimal digits (the SHA-256 of the token, as 'governor token' prints)", line: reader.entry("admin_token_sha256")?.line)
            }
        }
        if let log = reader.singleLine("results_log") {
            settings.resultsLog = ConfigPaths.resolve(log, relativeTo: document.file)
        }
        settings.publicURL = reader.singleLine("public_url")
        if let size = reader.singleLine("max_output") {
            if let bytes = ByteSize.bytes(size), bytes > 0 {
                settings.maxOutputBytes = bytes
            } else {
                reader.error("'max_output' is '\(size)'; expected a size such as 1MiB, 512KiB or a number of bytes", line: reader.entry("max_output")?.line)
            }
        }
        if !settings.listen.isLoopback && settings.adminTokenSHA256 == nil {
            reader.warning("'listen' is \(settings.listen), reachable from other machines, and no 'admin_token_sha256' is set: "
                + "anyone who can reach it can read schedules and results; set one with 'governor token admin'", line: reader.entry("listen")?.line)
        }
        return settings
    }

    /// `[Alerts]`: the missed-run rules and the email transport.
    static func readAlerts(_ reader: inout SectionReader) -> AlertSettings {
        var alerts = AlertSettings()
        let file = reader.file
        if let url = reader.singleLine("smtp") {
            if url.hasPrefix("smtp://") || url.hasPrefix("smtps://") {
                alerts.smtpURL = url
            } else {
                reader.error("'smtp' is '\(url)'; expected smtp://HOST:PORT (STARTTLS when offered) or smtps://HOST:PORT (TLS)", line: reader.entry("smtp")?.line)
            }
        }
        if let mode = reader.singleLine("starttls") {
            if let value = AlertSettings.StartTLS(rawValue: mode) {
                alerts.startTLS = value
            } else {
                reader.error("'starttls' is '\(mode)'; expected opportunistic, required or off", line: reader.entry("starttls")?.line)
            }
        }
        alerts.username = reader.singleLine("username")
        alerts.passwordFile = reader.singleLine("password_file").map { ConfigPaths.resolve($0, relativeTo: file) }
        if let from = reader.singleLine("from") {
            if isPlausibleEmail(MailboxAddress.address(from)) {
                alerts.from = from
            } else {
                reader.error("'from' is '\(from)'; expected an email address such as governor@example.org", line: reader.entry("from")?.line)
            }
        }
        for piece in reader.list("to") {
            if isPlausibleEmail(piece.text) {
                alerts.to.append(piece.text)
            } else {
                reader.error("'\(piece.text)' in 'to' is not an email address", line: piece.line)
            }
        }
        alerts.sendmail = reader.singleLine("sendmail")
        if alerts.smtpURL != nil && alerts.sendmail != nil {
            reader.error("set either 'smtp' or 'sendmail' in [Alerts], not both", line: reader.entry("sendmail")?.line)
        }
        if let grace = reader.duration("grace") { alerts.graceSeconds = grace }
        if let missed = reader.positiveInteger("missed_runs") { alerts.missedRuns = missed }
        if let repeatEvery = reader.duration("repeat") {
            if repeatEvery > 0 { alerts.repeatSeconds = repeatEvery }
        }
        if let cap = reader.duration("retry_max") {
            if cap > 0 { alerts.retryMaxSeconds = cap }
        }
        if (alerts.smtpURL != nil || alerts.sendmail != nil) && (alerts.from == nil || alerts.to.isEmpty) {
            reader.warning("[Alerts] has a transport but no 'from' or no 'to'; schools without alert_to get no email", line: reader.section.line)
        }
        return alerts
    }

    /// `[SSH]`: the defaults of every push probe.
    static func readSSH(_ reader: inout SectionReader) -> SSHDefaults {
        var defaults = SSHDefaults()
        let file = reader.file
        defaults.user = reader.singleLine("user")
        if let port = reader.singleLine("port") {
            if let number = Int(port), (1...65_535).contains(number) {
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
        for (key, path) in [("timeout", \SSHDefaults.timeoutSeconds), ("connect_timeout", \.connectTimeoutSeconds), ("max_lateness", \.maxLatenessSeconds)] {
            if let seconds = reader.duration(key) {
                if seconds > 0 {
                    defaults[keyPath: path] = seconds
                } else {
                    reader.error("'\(key)' must be longer than zero", line: reader.entry(key)?.line)
                }
            }
        }
        return defaults
    }

    // MARK: - Schools

    /// Reads the school held by `document`; sections named in `ignoring` belong to the governor.
    static func readSchool(_ document: INIDocument, governor: GovernorSettings, ignoring: Set<String>) -> (SchoolConfig?, [ConfigProblem]) {
        let file = document.file
        var problems: [ConfigProblem] = []
        if ignoring.isEmpty {
            let known = ["School", "Timing", "Probes"]
            for section in document.sections where !known.contains(section.name) && !section.name.hasPrefix(probeSectionPrefix) {
                problems.append(unknownSection(section, in: file, known: known))
            }
        }

        var name = ConfigPaths.stem(of: file)
        var timeZone = governor.timeZone
        var timeZoneName = governor.timeZoneName
        var alertTo: [String] = []
        if let section = document.section("School") {
            var reader = SectionReader(section, in: document, knownKeys: schoolKeys)
            if let given = reader.singleLine("name") { name = given }
            if let zone = reader.timeZone("timezone") {
                timeZone = zone.zone
                timeZoneName = zone.name
            }
            for piece in reader.list("alert_to") {
                if isPlausibleEmail(piece.text) {
                    alertTo.append(piece.text)
                } else {
                    reader.error("'\(piece.text)' in alert_to is not an email address", line: piece.line)
                }
            }
            problems += reader.problems
        }

        let timing = readTiming(document, governor: governor, problems: &problems)
        var probes = readProbes(document, problems: &problems)
        applyProbeSections(document, to: &probes, problems: &problems)
        if governor.requireTokens {
            for probe in probes where probe.mode == .pull && probe.token == nil && probe.tokenSHA256 == nil {
                problems.append(.error(file, line: probe.line,
                    "pull probe '\(probe.name)' has no token: add a [Probe \(probe.name)] section with the token_sha256 line "
                    + "that 'governor token \(probe.name)' prints (or set 'require_tokens = no' in [Governor])"))
            }
        }

        guard let timing, !problems.containsError else { return (nil, problems) }
        let school = SchoolConfig(name: name, file: file, timeZone: timeZone, timeZoneName: timeZoneName, alertTo: alertTo, timing: timing, probes: probes)
        problems += feasibilityProblems(of: school, line: document.section("Timing")?["boundaries"]?.line)
        // A push probe that cannot be dispatched still gets its schedule (the original's
        // files have no [SSH]); each of its runs is recorded as failed, with this reason.
        for probe in probes where probe.mode == .push {
            do {
                _ = try PushTarget.resolve(probe, of: school, governor: governor)
            } catch {
                problems.append(.warning(file, line: probe.line, "\(error.message); until then its runs are recorded as failed"))
            }
        }
        return problems.containsError ? (nil, problems) : (school, problems)
    }

    static func readTiming(_ document: INIDocument, governor: GovernorSettings, problems: inout [ConfigProblem]) -> Timing? {
        guard let section = document.section("Timing") else {
            problems.append(.error(document.file, "missing section [Timing] (with boundaries, runs_per_period and delay)"))
            return nil
        }
        var reader = SectionReader(section, in: document, knownKeys: timingKeys)
        defer { problems += reader.problems }

        var boundaries: [(time: TimeOfDay, line: Int)] = []
        for piece in reader.list("boundaries") {
            guard let time = TimeOfDay(parsing: piece.text) else {
                reader.error("boundary '\(piece.text)' is not a time of day; expected HHMM, HH:MM or HH:MM:SS (e.g. 0530 or 17:45)", line: piece.line)
                continue
            }
            if let previous = boundaries.last {
                if previous.time == time {
                    reader.error("boundary \(time) appears twice (lines \(previous.line) and \(piece.line))", line: piece.line)
                    continue
                }
                if time < previous.time {
                    reader.error("boundary \(time) comes after \(previous.time) (line \(previous.line)); list boundaries in increasing order within the day", line: piece.line)
                    continue
                }
            }
            boundaries.append((time, piece.line))
        }
        let overnight = reader.bool("overnight") ?? true
        let boundariesLine = reader.entry("boundaries")?.line
        if reader.entry("boundaries") == nil {
            reader.error("missing 'boundaries' in [Timing]: the times of day that delimit the test windows", line: section.line)
        } else if boundaries.isEmpty && !reader.problems.containsError {
            reader.error("'boundaries' lists no time of day", line: boundariesLine)
        } else if boundaries.count == 1 && !overnight {
            reader.error("one boundary with 'overnight = no' gives no window; list at least two boundaries", line: boundariesLine)
        }

        let runs = reader.positiveInteger("runs_per_period")
        if reader.entry("runs_per_period") == nil {
            reader.error("missing 'runs_per_period' in [Timing]: how many times each probe runs per window", line: section.line)
        }
        let delay = reader.duration("delay", bareUnit: .minutes)
        if reader.entry("delay") == nil {
            reader.error("missing 'delay' in [Timing]: the minimum pause between two tests of the school (a bare number is minutes, as in the original governor)", line: section.line)
        }
        var testDuration = governor.testDurationSeconds
        if let duration = reader.duration("test_duration") {
            if duration > 0 {
                testDuration = duration
            } else {
                reader.error("'test_duration' must be longer than zero", line: reader.entry("test_duration")?.line)
            }
        }
        guard let runs, let delay, !reader.problems.containsError else { return nil }
        return Timing(boundaries: boundaries.map(\.time), runsPerPeriod: runs, delaySeconds: delay,
                      testDurationSeconds: testDuration, overnight: overnight)
    }

    static func readProbes(_ document: INIDocument, problems: inout [ConfigProblem]) -> [ProbeConfig] {
        guard let section = document.section("Probes") else {
            problems.append(.error(document.file, "missing section [Probes] (with 'ids' for pull probes or 'addresses' for push probes)"))
            return []
        }
        var reader = SectionReader(section, in: document, knownKeys: probesKeys)
        defer { problems += reader.problems }
        var probes: [ProbeConfig] = []
        for piece in reader.list("ids") {
            guard ProbeConfig.isValidID(piece.text) else {
                reader.error("probe id '\(piece.text)' is not valid; use 1 to 64 letters, digits, '.', '_' or '-'", line: piece.line)
                continue
            }
            probes.append(ProbeConfig(name: piece.text, mode: .pull, line: piece.line))
        }
        for piece in reader.list("addresses") {
            guard let address = ProbeAddress(parsing: piece.text) else {
                reader.error("probe address '\(piece.text)' is not valid; expected an IPv4 or IPv6 address or a host name, optionally as user@host:port", line: piece.line)
                continue
            }
            probes.append(ProbeConfig(name: piece.text, mode: .push, address: address, line: piece.line))
        }
        var seen: [String: Int] = [:]
        for probe in probes {
            let key = identity(of: probe)
            if let first = seen[key] {
                reader.error("probe '\(probe.name)' is listed twice in this school (lines \(first) and \(probe.line))", line: probe.line)
            } else {
                seen[key] = probe.line
            }
        }
        if probes.isEmpty && !reader.problems.containsError {
            reader.error("[Probes] lists no probe; add 'ids' (pull probes) or 'addresses' (push probes)", line: section.line)
        }
        return probes
    }

    /// Applies `[Probe NAME]` sections to the probes they name.
    static func applyProbeSections(_ document: INIDocument, to probes: inout [ProbeConfig], problems: inout [ConfigProblem]) {
        for section in document.sections where section.name.hasPrefix(probeSectionPrefix) {
            let name = String(section.name.dropFirst(probeSectionPrefix.count)).trimmingASCIIWhitespace()
            var reader = SectionReader(section, in: document, knownKeys: ProbeConfig.settingKeys)
            defer { problems += reader.problems }
            guard let index = probes.firstIndex(where: { $0.name == name }) else {
                reader.warning("section [\(section.name)] names no probe of this school; its settings are ignored", line: section.line)
                continue
            }
            var settings: [String: String] = [:]
            for entry in section.entries where ProbeConfig.settingKeys.contains(entry.key) {
                settings[entry.key] = entry.value
            }
            if let hash = settings["token_sha256"] {
                if isSHA256Hex(hash) {
                    settings["token_sha256"] = hash.lowercased()
                } else {
                    reader.error("'token_sha256' of probe '\(name)' must be 64 hexadecimal digits (as 'governor token \(name)' prints)", line: section["token_sha256"]?.line)
                }
            }
            if let port = settings["port"], Int(port).map({ (1...65_535).contains($0) }) != true {
                reader.error("'port' of probe '\(name)' is '\(port)'; expected a number from 1 to 65535", line: section["port"]?.line)
            }
            for key in ["timeout", "connect_timeout"] {
                if let value = settings[key], (DurationValue.seconds(value) ?? 0) <= 0 {
                    reader.error("'\(key)' of probe '\(name)' is '\(value)'; \(DurationValue.expectation(bareUnit: .seconds))", line: section[key]?.line)
                }
            }
            if let check = settings["host_key_check"], HostKeyCheck(rawValue: check) == nil {
                reader.error("'host_key_check' of probe '\(name)' is '\(check)'; expected strict or accept-new", line: section["host_key_check"]?.line)
            }
            probes[index].settings = settings
        }
    }

    /// Refuses a window that cannot hold all of its tests without overlap.
    static func feasibilityProblems(of school: SchoolConfig, line: Int?) -> [ConfigProblem] {
        school.timing.nominalWindows.compactMap { window in
            let needed = school.testsPerWindow * school.timing.slotSeconds
            guard needed > window.seconds else { return nil }
            let end = TimeOfDay(secondsSinceMidnight: (window.start.secondsSinceMidnight + window.seconds) % 86_400)!
            return .error(school.file, line: line, Feasibility.message(
                school: school.name, window: "\(window.start)–\(end)", school.probes.count, school.timing, needed: needed, available: window.seconds))
        }
    }

    /// Probe names and push hosts must be unique across schools; a later school that
    /// reuses one (or a school name) is refused, naming both files.
    static func rejectClashes(_ schools: [SchoolConfig]) -> ([SchoolConfig], [ConfigProblem]) {
        var owners: [String: (school: SchoolConfig, probe: ProbeConfig)] = [:]
        var names: [String: SchoolConfig] = [:]
        var kept: [SchoolConfig] = []
        var problems: [ConfigProblem] = []
        for school in schools {
            var clashes: [ConfigProblem] = []
            if let other = names[school.name] {
                clashes.append(.error(school.file, "school name '\(school.name)' is already used by \(other.file); give each school its own name"))
            }
            for probe in school.probes {
                if let other = owners[identity(of: probe)] {
                    clashes.append(.error(school.file, line: probe.line,
                        "probe '\(probe.name)' is already configured in \(other.school.file):\(other.probe.line) (school '\(other.school.name)'); a probe belongs to one school"))
                }
            }
            if clashes.isEmpty {
                kept.append(school)
                names[school.name] = school
                for probe in school.probes { owners[identity(of: probe)] = (school, probe) }
            } else {
                problems += clashes
            }
        }
        return (kept, problems)
    }

    /// What makes two probes the same: the id, or the host and port of an address.
    static func identity(of probe: ProbeConfig) -> String {
        guard let address = probe.address else { return "id:\(probe.name)" }
        return "host:\(address.host.lowercased()):\(address.port.map(String.init) ?? "default")"
    }

    static func unknownSection(_ section: INIDocument.Section, in file: String, known: [String]) -> ConfigProblem {
        var message = "unknown section [\(section.name)] is ignored"
        if let match = (known + ["Probe NAME"]).first(where: { $0.lowercased() == section.name.lowercased() }) {
            message += "; section names are case-sensitive: did you mean [\(match)]?"
        } else {
            message += " (known sections: \(known.map { "[\($0)]" }.joined(separator: ", ")), [Probe NAME])"
        }
        return .warning(file, line: section.line, message)
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.allSatisfy(\.isHexDigit)
    }

    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
    }
}

/// The wording of the "window too short" error, shared by load-time checks and by
/// generation on days whose windows a daylight-saving change shortens.
enum Feasibility {
    static func message(school: String, window: String, _ probeCount: Int, _ timing: Timing, needed: Int, available: Int) -> String {
        "school '\(school)': window \(window) is too short: \(probeCount) probe(s) × \(timing.runsPerPeriod) run(s) × "
            + "(\(DurationValue.format(timing.testDurationSeconds)) test + \(DurationValue.format(timing.delaySeconds)) delay) "
            + "need \(needed) s (\(DurationValue.format(needed))) but the window has \(available) s (\(DurationValue.format(available))); "
            + "lower runs_per_period or delay, or widen the window"
    }
}
