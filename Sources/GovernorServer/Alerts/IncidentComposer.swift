import Foundation
import GovernorCore
import GovernorStore

/// Turns an incident's steps into email: one when it opens, one when it closes, and
/// one per `incident_span` at most for the schools it left down that came back since.
///
/// Each message's Message-ID is made from the incident's id and the step
/// (`incident-7-opened@domain`), and the outbox takes a Message-ID once: a step
/// stored twice (a judge that restarted between its write and the next pass) is sent
/// once.
struct IncidentComposer: Sendable {
    var settings: AlertSettings
    var publicURL: String?
    var hostName: String
    /// The configured schools, by name.
    var schools: [String: SchoolConfig]
    /// When each school went down as a whole.
    var downSince: [String: UnixTime]
    /// What the heartbeat's calls did, for an incident of a large part of the fleet.
    var heartbeat: HeartbeatCalls.Summary

    /// The most schools a message lists; the dashboard lists them all.
    static let listed = 500

    enum Step: Sendable {
        case opened
        case closed
        /// Schools left down at the close that came back: the incident as it was before
        /// the report (``Incident/laterRecovered`` lists them).
        case recovered(told: Incident)
    }

    func message(_ step: Step, of incident: Incident, at now: UnixTime) -> OutboxMessage? {
        guard settings.canSend, let from = settings.from, let id = incident.id else { return nil }
        let recipients = settings.recipients(adding: Array(Set(incident.schools.flatMap { schools[$0]?.alertTo ?? [] })).sorted())
        guard !recipients.isEmpty else { return nil }
        let what = incident.scope == .fleet ? "schools" : "schools with \(incident.scope)"
        let subject: String, body: String, tag: String
        switch step {
        case .opened:
            tag = "opened"
            subject = "[governor] INCIDENT: \(incident.schools.count) \(what) DOWN since \(clock(incident.since, incident))"
            body = opened(incident, now: now)
        case .closed:
            tag = "closed"
            subject = "[governor] INCIDENT over: \(incident.recovered.count) of \(incident.schools.count) \(what) back"
                + (incident.stillDown.isEmpty ? "" : ", \(incident.stillDown.count) still DOWN")
            body = closed(incident, now: now)
        case .recovered(let told):
            tag = "recovered-\(now)"
            subject = "[governor] UP: \(told.laterRecovered.count) more of incident #\(id)'s \(what) back"
                + (told.stillDown.isEmpty ? "" : ", \(told.stillDown.count) still DOWN")
            body = "Incident #\(id) (\(incident.scope)) ended at \(time(incident.closedAt ?? now, incident)) with schools still DOWN. "
                + "Since then these are back:\n" + list(told.laterRecovered, incident)
                + (told.stillDown.isEmpty ? "\nEvery school of the incident is back now.\n"
                    : "\nStill DOWN (\(told.stillDown.count)); each has its own alerts:\n" + list(told.stillDown, incident))
        }
        var footer = ""
        if let publicURL {
            footer = "\nDashboard: \(publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL)/#incident-\(id)\n"
        }
        return OutboxMessage(messageId: "incident-\(id)-\(tag)@\(MailboxAddress.domain(from))", sender: from, recipients: recipients,
                             subject: subject, body: body + footer + "\n-- \ngovernor on \(hostName)\n", createdAt: now)
    }

    private func opened(_ incident: Incident, now: UnixTime) -> String {
        var body: String
        switch incident.scope {
        case .label(let label):
            body = "\(incident.schools.count) schools with \(label) went DOWN together (every probe of each missed \(settings.missedRuns) runs in a row), "
                + "the first at \(time(incident.since, incident)). A shared cause is likely: the \(label.key) \(label.value).\n"
        case .fleet:
            body = "\(incident.schools.count) schools went DOWN together (every probe of each missed \(settings.missedRuns) runs in a row), "
                + "the first at \(time(incident.since, incident)). They share no label of incident_labels.\n"
        }
        body += "\nThis is one incident: the schools' own DOWN emails are not sent while it lasts, and schools that go down "
            + "like them join it. Their states and missed runs are recorded and shown as usual. One email will say when it is over.\n"
        let fleet = schools.count
        if incident.scope == .fleet || Double(incident.schools.count) >= settings.incidents.fleetFraction * Double(fleet) {
            body += "\n" + ownNetwork(incident, fleet: fleet)
        }
        body += "\nDOWN (\(incident.schools.count)):\n" + list(incident.schools, incident, since: true)
        return body
    }

    /// A large part of the fleet silent at once may be the governor's own link: says so,
    /// and whether its heartbeat URL (on another network) was reached meanwhile.
    private func ownNetwork(_ incident: Incident, fleet: Int) -> String {
        let percent = fleet == 0 ? 0 : incident.schools.count * 100 / fleet
        var text = "\(incident.schools.count) of the fleet's \(fleet) schools (\(percent) %) went silent at once: "
            + "the cause may be this governor's own network rather than theirs. "
        if !heartbeat.configured {
            text += "No heartbeat_url is set in [Alerts], so nothing outside tells whether this governor's own link worked meanwhile.\n"
        } else if let reached = heartbeat.lastReached, reached >= incident.since {
            text += "Its heartbeat URL was reached at \(time(reached, incident)), after the first school went down: its link to the outside works.\n"
        } else if let failed = heartbeat.lastFailed, failed >= incident.since {
            text += "Its heartbeat URL has NOT been reached since the first school went down (last attempt \(time(failed, incident)): "
                + "\(heartbeat.lastError ?? "no answer")); look at this governor's own network first.\n"
        } else {
            text += "Its heartbeat URL has not been called since the first school went down"
                + (heartbeat.lastReached.map { "; it was last reached at \(time($0, incident))" } ?? "") + ".\n"
        }
        return text
    }

    private func closed(_ incident: Incident, now: UnixTime) -> String {
        let lasted = AlertComposer.duration(now - incident.since)
        let cause = incident.recovered.count * 2 > incident.schools.count
            ? "most of its schools are back" : "it reached incident_max (\(AlertComposer.duration(settings.incidents.maxSeconds)))"
        var body = "Incident #\(incident.id ?? 0) (\(incident.scope), \(incident.schools.count) schools, DOWN since \(time(incident.since, incident))) "
            + "is over after \(lasted): \(cause).\n"
        body += "\nBack (\(incident.recovered.count)):\n" + list(incident.recovered, incident)
        if !incident.stillDown.isEmpty {
            body += "\nStill DOWN (\(incident.stillDown.count)): from now on each has its own alerts (reminders as [Alerts] repeat says); "
                + "those that come back are told of together, at most one email every \(AlertComposer.duration(settings.incidents.spanSeconds)).\n"
                + list(incident.stillDown, incident, since: true)
        }
        return body
    }

    private func list(_ names: [String], _ incident: Incident, since: Bool = false) -> String {
        var lines = names.prefix(Self.listed).map { name in
            let school = schools[name]
            var line = "  \(name)"
            if let school, school.probes.count > 1 { line += " (\(school.probes.count) probes)" }
            if since, let down = downSince[name] { line += ", DOWN since \(time(down, incident))" }
            if let school, !school.labels.isEmpty { line += " [\(school.labels)]" }
            return line
        }
        if names.count > Self.listed { lines.append("  … and \(names.count - Self.listed) more (see the dashboard)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The time zone of the incident's first school: an ISP's or district's schools share one.
    private func zone(_ incident: Incident) -> TimeZone {
        incident.schools.first.flatMap { schools[$0]?.timeZone } ?? TimeZone(identifier: "UTC")!
    }

    private func time(_ instant: UnixTime, _ incident: Incident) -> String {
        AlertComposer.time(instant, in: zone(incident))
    }

    /// `09:12 CET`, for a subject.
    private func clock(_ instant: UnixTime, _ incident: Incident) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone(incident)
        formatter.dateFormat = "HH:mm zzz"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant)))
    }
}
