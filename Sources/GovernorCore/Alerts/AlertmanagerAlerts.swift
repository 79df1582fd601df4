import Foundation

/// The governor's alerts as Prometheus Alertmanager receives them (its v2 API:
/// `POST /api/v2/alerts`): labels that identify and route each alert, annotations
/// that describe it, and the span it fires for.
///
/// Alertmanager groups, inhibits, silences and routes them to every receiver it
/// knows (Slack, PagerDuty, webhooks, email) with its own configuration, so the
/// governor needs no plug-in per service. The alerts here are pure values made from
/// the fleet's state; ``AlertmanagerOutbox`` decides when they are sent.
public struct AlertmanagerAlert: Codable, Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String]
    /// RFC 3339.
    public var startsAt: String
    /// RFC 3339: a few intervals ahead while firing (the governor re-sends it every
    /// minute, so an alert a governor stopped sending ends by itself), or the instant
    /// it was resolved.
    public var endsAt: String
    public var generatorURL: String?

    public init(labels: [String: String], annotations: [String: String], startsAt: String, endsAt: String, generatorURL: String? = nil) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }

    /// Alertmanager tells alerts apart by their labels alone.
    public var identity: String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1F}")
    }
}

/// The kinds of alert the governor raises, as `alertname`.
public enum AlertKind: String, Sendable, CaseIterable {
    /// A probe missed `missed_runs` runs in a row.
    case probeDown = "GovernorProbeDown"
    /// Every probe of a school is DOWN: its link, most likely.
    case schoolDown = "GovernorSchoolDown"
    /// Many schools sharing a label went DOWN together (an incident).
    case incident = "GovernorIncident"
    /// A school's median download over its window is below its target.
    case belowTarget = "GovernorSchoolBelowTarget"

    public var severity: String {
        switch self {
        case .probeDown: "warning"
        case .schoolDown, .incident: "critical"
        case .belowTarget: "info"
        }
    }
}

/// Makes the alerts of the fleet's current state.
public struct AlertmanagerAlerts: Sendable {
    /// `[Governor] public_url` without its trailing slash, for links.
    public var dashboardURL: String?

    public init(publicURL: String?) {
        dashboardURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// A probe that is DOWN, with what its alert says.
    public struct DownProbe: Sendable, Equatable {
        public var probe: ProbeConfig
        public var since: UnixTime
        public var consecutiveMissed: Int
        /// The missed runs, each as `2026-12-07T09:12:00Z (no-contact)`, latest last.
        public var missedRuns: [String]
        public var lastContact: UnixTime?

        public init(probe: ProbeConfig, since: UnixTime, consecutiveMissed: Int, missedRuns: [String], lastContact: UnixTime?) {
            self.probe = probe
            self.since = since
            self.consecutiveMissed = consecutiveMissed
            self.missedRuns = missedRuns
            self.lastContact = lastContact
        }
    }

    func labels(_ kind: AlertKind, school: SchoolConfig) -> [String: String] {
        var labels = school.labels.dictionary
        labels["alertname"] = kind.rawValue
        labels["severity"] = kind.severity
        labels["school"] = school.name
        return labels
    }

    func link(_ school: SchoolConfig) -> String? {
        dashboardURL.map { "\($0)/schools/\(school.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? school.name)" }
    }

    public func probeDown(_ down: DownProbe, of school: SchoolConfig, endsAt: UnixTime) -> AlertmanagerAlert {
        var labels = self.labels(.probeDown, school: school)
        labels["probe"] = down.probe.name
        labels["mode"] = down.probe.mode.rawValue
        var annotations: [String: String] = [
            "summary": "Probe \(down.probe.name) of school \(school.name) is DOWN: \(down.consecutiveMissed) runs missed in a row",
            "missed_runs": down.missedRuns.joined(separator: "\n"),
            "last_contact": down.lastContact.map { RFC3339.format($0) } ?? "never",
        ]
        if let link = link(school) { annotations["dashboard"] = link }
        return AlertmanagerAlert(labels: labels, annotations: annotations, startsAt: RFC3339.format(down.since), endsAt: RFC3339.format(endsAt),
                                 generatorURL: link(school))
    }

    /// - Parameter since: when the last of its probes went down.
    public func schoolDown(_ school: SchoolConfig, since: UnixTime, endsAt: UnixTime) -> AlertmanagerAlert {
        var annotations: [String: String] = ["summary": "Every probe of school \(school.name) is DOWN (\(school.probes.count)): its link may be down"]
        if let link = link(school) { annotations["dashboard"] = link }
        return AlertmanagerAlert(labels: self.labels(.schoolDown, school: school), annotations: annotations, startsAt: RFC3339.format(since),
                                 endsAt: RFC3339.format(endsAt), generatorURL: link(school))
    }

    /// An open incident: labelled with its id and, for one of a label, that label
    /// (so that a route or an inhibition can match `isp="acme-telecom"`).
    public func incident(_ incident: Incident, endsAt: UnixTime) -> AlertmanagerAlert {
        var labels = ["alertname": AlertKind.incident.rawValue, "severity": AlertKind.incident.severity, "incident": "\(incident.id ?? 0)"]
        if case .label(let label) = incident.scope { labels[label.key] = label.value }
        let what = incident.scope == .fleet ? "schools" : "schools with \(incident.scope)"
        var annotations = [
            "summary": "\(incident.schools.count) \(what) DOWN together since \(RFC3339.format(incident.since))",
            "schools": incident.schools.prefix(100).joined(separator: "\n") + (incident.schools.count > 100 ? "\n… and \(incident.schools.count - 100) more" : ""),
        ]
        let link = dashboardURL.map { "\($0)/#incident-\(incident.id ?? 0)" }
        if let link { annotations["dashboard"] = link }
        return AlertmanagerAlert(labels: labels, annotations: annotations, startsAt: RFC3339.format(incident.openedAt), endsAt: RFC3339.format(endsAt),
                                 generatorURL: link)
    }

    public func belowTarget(_ school: SchoolConfig, median: Double, target: SchoolTarget, state: MeasurementState, since: UnixTime,
                            endsAt: UnixTime) -> AlertmanagerAlert {
        var labels = self.labels(.belowTarget, school: school)
        labels["state"] = state.rawValue
        var annotations: [String: String] = [
            "summary": "School \(school.name) measures a median download of \(SchoolTarget.format(median)) Mbit/s over its window, "
                + "below its target of \(SchoolTarget.format(target.downloadMbps)) Mbit/s (\(target.source.rawValue))",
        ]
        if let link = link(school) { annotations["dashboard"] = link }
        return AlertmanagerAlert(labels: labels, annotations: annotations, startsAt: RFC3339.format(since), endsAt: RFC3339.format(endsAt),
                                 generatorURL: link(school))
    }
}

/// When the governor sends its alerts to one Alertmanager, and what: a pure value
/// the service keeps per URL.
///
/// Every firing alert is sent again each ``resendSeconds`` with `endsAt`
/// ``validitySeconds`` ahead (so an alert the governor stops sending, because it
/// stopped or another governor judges now, ends by itself); a new alert or a
/// resolved one is sent at the next pass. An alert that stopped firing is sent once
/// more with `endsAt` = the instant it stopped, and kept until Alertmanager accepted
/// that: an Alertmanager that was down loses nothing, it gets the whole state when
/// it answers again.
public struct AlertmanagerOutbox: Sendable {
    public static let resendSeconds: UnixTime = 60
    public static let validitySeconds: UnixTime = 240

    /// The firing alerts Alertmanager last accepted, by identity.
    private var accepted: [String: AlertmanagerAlert] = [:]
    /// Alerts that stopped firing, with the instant, until Alertmanager accepted their end.
    private var resolving: [String: (alert: AlertmanagerAlert, at: UnixTime)] = [:]
    private var lastSent: UnixTime?
    /// Whether the last attempt failed: the next pass tries again whatever the interval.
    private var failing = false

    public init() {}

    /// The batch to send now, or nil when nothing changed and the last send is recent.
    /// - Parameter firing: the alerts firing now (their `endsAt` is set here).
    public mutating func due(firing: [AlertmanagerAlert], now: UnixTime) -> [AlertmanagerAlert]? {
        let current = Dictionary(firing.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        for (identity, alert) in accepted where current[identity] == nil && resolving[identity] == nil {
            resolving[identity] = (alert, now)
        }
        // An alert that fires again is no longer resolving.
        for identity in current.keys { resolving[identity] = nil }
        let changed = current.keys.contains { accepted[$0] == nil } || !resolving.isEmpty
        let stale = lastSent.map { now - $0 >= Self.resendSeconds } ?? true
        guard changed || stale || failing else { return nil }
        guard !current.isEmpty || !resolving.isEmpty || !accepted.isEmpty else { return nil }
        var batch = current.map { identity, alert in
            var alert = alert
            // The start Alertmanager knows stays, for an alert whose start is only when it was first seen.
            alert.startsAt = accepted[identity]?.startsAt ?? alert.startsAt
            alert.endsAt = RFC3339.format(now + Self.validitySeconds)
            return alert
        }
        batch += resolving.values.map { entry in
            var alert = entry.alert
            alert.endsAt = RFC3339.format(entry.at)
            return alert
        }
        return batch.sorted { $0.identity < $1.identity }
    }

    /// Alertmanager accepted `batch`, sent at `now`.
    public mutating func sent(_ batch: [AlertmanagerAlert], at now: UnixTime) {
        failing = false
        lastSent = now
        var firing: [String: AlertmanagerAlert] = [:]
        for alert in batch {
            let identity = alert.identity
            if let ending = resolving[identity], RFC3339.parse(alert.endsAt) == ending.at {
                resolving[identity] = nil
            } else {
                firing[identity] = alert
            }
        }
        accepted = firing
    }

    /// The send failed: everything stays due.
    public mutating func failed() {
        failing = true
    }

    /// How many alerts are firing as Alertmanager last accepted them.
    public var firingCount: Int { accepted.count }
}
