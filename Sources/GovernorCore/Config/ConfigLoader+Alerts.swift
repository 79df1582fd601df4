import Foundation

/// `[Alerts]`: how missed-run email is sent and when a probe counts as DOWN.
extension ConfigLoader {
    /// Read by the alerting component; listed here so that typos are reported at load time.
    static let alertsKeys = [
        "smtp", "starttls", "username", "password_file", "from", "to", "sendmail", "grace", "missed_runs", "repeat", "retry_max",
        "heartbeat_url", "heartbeat_interval", "heartbeat_fail_after", "below_target_days", "digest_at", "alertmanager",
        "incident_min_schools", "incident_labels", "incident_fleet_fraction", "incident_span", "incident_max", "incident_wait",
    ]

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
        if let grace = reader.duration("grace", in: ConfigLimits.grace) { alerts.graceSeconds = grace }
        if let missed = reader.integer("missed_runs", in: ConfigLimits.missedRuns) { alerts.missedRuns = missed }
        if let repeatEvery = reader.duration("repeat", in: ConfigLimits.reminder) { alerts.repeatSeconds = repeatEvery }
        if let cap = reader.duration("retry_max", in: ConfigLimits.retryMax) { alerts.retryMaxSeconds = cap }
        alerts.belowTargetDays = reader.integer("below_target_days", in: ConfigLimits.belowTargetDays)
        if let text = reader.singleLine("digest_at") {
            if let time = TimeOfDay(parsing: text) {
                alerts.digestAt = time
            } else {
                reader.error("'digest_at' is '\(text)'; expected a time of day such as 07:00", line: reader.entry("digest_at")?.line)
            }
        }
        if let url = reader.singleLine("heartbeat_url") {
            if let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()), !(parsed.host ?? "").isEmpty {
                alerts.heartbeatURL = url
            } else {
                reader.error("'heartbeat_url' is '\(url)'; expected an http:// or https:// URL such as https://hc-ping.com/UUID",
                             line: reader.entry("heartbeat_url")?.line)
            }
        }
        for piece in reader.list("alertmanager") {
            if let parsed = URLComponents(string: piece.text), ["http", "https"].contains(parsed.scheme?.lowercased()), !(parsed.host ?? "").isEmpty,
               parsed.query == nil {
                let url = piece.text.hasSuffix("/") ? String(piece.text.dropLast()) : piece.text
                if !alerts.alertmanagers.contains(url) { alerts.alertmanagers.append(url) }
            } else {
                reader.error("'alertmanager' has '\(piece.text)'; expected Alertmanager's base URL, such as http://127.0.0.1:9093", line: piece.line)
            }
        }
        if let interval = reader.duration("heartbeat_interval", in: ConfigLimits.heartbeatInterval) { alerts.heartbeatIntervalSeconds = interval }
        if let after = reader.duration("heartbeat_fail_after", in: ConfigLimits.heartbeatFailAfter) { alerts.heartbeatFailAfterSeconds = after }
        alerts.incidents = readIncidents(&reader)
        if alerts.heartbeatURL == nil, let entry = reader.entry("heartbeat_interval") ?? reader.entry("heartbeat_fail_after") {
            reader.warning("'\(entry.key)' has no effect without 'heartbeat_url'", line: entry.line)
        }
        if (alerts.smtpURL != nil || alerts.sendmail != nil) && (alerts.from == nil || alerts.to.isEmpty) {
            reader.warning("[Alerts] has a transport but no 'from' or no 'to'; schools without alert_to get no email", line: reader.section.line)
        }
        return alerts
    }

    /// `incident_*`: when schools that go down together are one incident.
    static func readIncidents(_ reader: inout SectionReader) -> IncidentSettings {
        var settings = IncidentSettings()
        if let count = reader.integer("incident_min_schools", in: ConfigLimits.incidentMinSchools) { settings.minSchools = count }
        if reader.entry("incident_labels") != nil {
            var keys: [String] = []
            for piece in reader.list("incident_labels") {
                if let problem = SchoolLabels.problem(withKey: piece.text) {
                    reader.error("'incident_labels': \(problem)", line: piece.line)
                } else if !keys.contains(piece.text) {
                    keys.append(piece.text)
                }
            }
            settings.labelKeys = keys
        }
        if let entry = reader.entry("incident_fleet_fraction"), let text = reader.singleLine("incident_fleet_fraction") {
            let percent = text.hasSuffix("%")
            let digits = percent ? String(text.dropLast()).trimmingCharacters(in: .whitespaces) : text
            if digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(digits), number.isFinite,
               case let fraction = percent ? number / 100 : number, fraction > 0, fraction <= 1 {
                settings.fleetFraction = fraction
            } else {
                reader.error("'incident_fleet_fraction' is '\(text)'; expected a share of the fleet above 0 and at most 1, such as 10% or 0.1",
                             line: entry.line)
            }
        }
        if let span = reader.duration("incident_span", in: ConfigLimits.incidentSpan) { settings.spanSeconds = UnixTime(span) }
        if let max = reader.duration("incident_max", in: ConfigLimits.incidentMax) { settings.maxSeconds = UnixTime(max) }
        if let wait = reader.duration("incident_wait", in: ConfigLimits.incidentWait) { settings.waitSeconds = UnixTime(wait) }
        return settings
    }

    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
    }
}
