import Foundation

/// `[Governor]`: where the schools, the state and the API are, and the defaults for schools.
extension ConfigLoader {
    static let governorKeys = [
        "schools", "listen", "state", "timezone", "test_duration", "seed", "require_tokens",
        "admin_token_sha256", "results_log", "public_url", "max_output", "request_timeout", "max_connections_per_client", "max_connections",
        "password_file", "sslmode", "ssl_ca_file", "lease_horizon", "max_concurrent_tests", "result_format",
        "target_download_mbps", "mbps_per_student", "poor_below_mbps", "measurement_window", "daily_tests_per_egress",
        "trusted_proxies", "labels",
    ]

    static func readGovernor(_ document: INIDocument, problems: inout [ConfigProblem]) -> GovernorSettings {
        var settings = GovernorSettings(file: document.file)
        for section in document.sections {
            let known = ["Governor", "Alerts", "SSH", "Timing", "Probes", "School"]
            if !known.contains(section.name) && !section.name.hasPrefix(probeSectionPrefix) && !section.name.hasPrefix(groupSectionPrefix) {
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
            if PostgresLocation.isURL(state) {
                do {
                    settings.postgres = try PostgresLocation(url: state)
                } catch {
                    reader.error("'state': \(error)", line: reader.entry("state")?.line)
                }
            } else {
                settings.statePath = ConfigPaths.resolve(state, relativeTo: document.file)
            }
        }
        readPostgresOptions(&reader, into: &settings, file: document.file)
        if let zone = reader.timeZone("timezone") {
            settings.timeZone = zone.zone
            settings.timeZoneName = zone.name
        }
        if let duration = reader.duration("test_duration", in: ConfigLimits.testDuration) { settings.testDurationSeconds = duration }
        if let format = reader.choice("result_format", of: ResultFormat.self) { settings.resultFormat = format }
        readMeasurementSettings(&reader, into: &settings.measurement)
        settings.dailyTestsPerEgress = reader.integer("daily_tests_per_egress", in: ConfigLimits.dailyTestsPerEgress)
        settings.labels = readLabels(&reader)
        for piece in reader.list("trusted_proxies") {
            if let range = AddressRange(piece.text) {
                settings.trustedProxies.append(range)
            } else {
                reader.error("'trusted_proxies' has '\(piece.text)'; expected IP addresses or CIDR ranges such as 127.0.0.1, 10.0.0.0/8 or 2001:db8::/32", line: piece.line)
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
            if let bytes = ByteSize.bytes(size), ConfigLimits.maxOutput.contains(bytes) {
                settings.maxOutputBytes = bytes
            } else {
                reader.error("'max_output' is '\(size)'; expected a size from 1 byte to 64MiB, such as 1MiB, 512KiB or a number of bytes",
                             line: reader.entry("max_output")?.line)
            }
        }
        if let seconds = reader.duration("request_timeout", in: ConfigLimits.requestTimeout) { settings.requestTimeoutSeconds = seconds }
        if let count = reader.integer("max_connections_per_client", in: ConfigLimits.connectionsPerClient) { settings.maxConnectionsPerClient = count }
        if let count = reader.integer("max_connections", in: ConfigLimits.connections) { settings.maxConnections = count }
        if let horizon = reader.duration("lease_horizon", in: ConfigLimits.leaseHorizon) { settings.leaseHorizonSeconds = horizon }
        if let cap = reader.integer("max_concurrent_tests", in: ConfigLimits.concurrentTests) {
            settings.maxConcurrentTests = cap
            settings.maxConcurrentTestsLine = reader.entry("max_concurrent_tests")?.line
        }
        if !settings.listen.isLoopback && settings.adminTokenSHA256 == nil {
            reader.warning("'listen' is \(settings.listen), reachable from other machines, and no 'admin_token_sha256' is set: "
                + "anyone who can reach it can read schedules and results; set one with 'governor token admin'", line: reader.entry("listen")?.line)
        }
        return settings
    }
}

extension ConfigLoader {
    /// `password_file`, `sslmode` and `ssl_ca_file`: only with a PostgreSQL state.
    static func readPostgresOptions(_ reader: inout SectionReader, into settings: inout GovernorSettings, file: String) {
        let passwordFile = reader.singleLine("password_file").map { ConfigPaths.resolve($0, relativeTo: file) }
        let caFile = reader.singleLine("ssl_ca_file").map { ConfigPaths.resolve($0, relativeTo: file) }
        var mode: PostgresLocation.SSLMode?
        if let text = reader.singleLine("sslmode") {
            mode = PostgresLocation.SSLMode(rawValue: text)
            if mode == nil {
                let allowed = PostgresLocation.SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error("'sslmode' is '\(text)'; expected one of \(allowed)", line: reader.entry("sslmode")?.line)
            }
        }
        guard var location = settings.postgres else {
            // A state URL that did not parse has its own error already.
            if let state = reader.entry("state"), PostgresLocation.isURL(state.value) { return }
            for key in ["password_file", "sslmode", "ssl_ca_file"] {
                if let entry = reader.entry(key) {
                    reader.error("'\(key)' applies to a PostgreSQL state only; 'state' names a file", line: entry.line)
                }
            }
            return
        }
        location.passwordFile = passwordFile
        location.caFile = caFile
        if let mode { location.sslMode = mode }
        if caFile != nil && location.sslMode != .verifyFull {
            reader.error("'ssl_ca_file' is used with sslmode = verify-full only; sslmode is \(location.sslMode.rawValue)", line: reader.entry("ssl_ca_file")?.line)
        }
        settings.postgres = location
    }

    /// What schools' measurements are judged against (see ``MeasurementSettings``).
    static func readMeasurementSettings(_ reader: inout SectionReader, into settings: inout MeasurementSettings) {
        settings.targetDownloadMbps = reader.decimal("target_download_mbps", in: ConfigLimits.mbps)
        settings.mbpsPerStudent = reader.decimal("mbps_per_student", in: ConfigLimits.mbpsPerStudent)
        if let poor = reader.decimal("poor_below_mbps", in: ConfigLimits.mbps) { settings.poorBelowMbps = poor }
        if let window = reader.duration("measurement_window", in: ConfigLimits.measurementWindow, bareUnit: .days) {
            if window % 86_400 != 0 {
                reader.warning("'measurement_window' is not whole days; it counts \(window / 86_400) open day(s)", line: reader.entry("measurement_window")?.line)
            }
            settings.windowDays = window / 86_400
        }
    }
}
