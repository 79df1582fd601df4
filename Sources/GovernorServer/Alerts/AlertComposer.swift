import Foundation
import GovernorCore
import GovernorStore

/// One probe's change, with what the message needs to describe it.
struct ProbeChange: Sendable {
    var probe: ProbeConfig
    var transition: ProbeTransition
    var lastContact: UnixTime?
    var nextRun: UnixTime?
    /// Why each missed run was missed.
    var judgements: [UnixTime: RunJudgement] = [:]
}

/// Turns the changes of one evaluation into outbox messages: one per probe, or one
/// per school when all of a school's probes went down (or came back) together.
struct AlertComposer {
    var settings: AlertSettings
    var publicURL: String?
    var hostName: String

    /// - Parameter conflicts: the school's probes whose ids are seen switching addresses,
    ///   which every message of the school mentions while it lasts.
    func messages(for changes: [ProbeChange], of school: SchoolConfig, at now: UnixTime,
                  conflicts: [(probe: String, conflict: EgressLedger.Conflict)] = []) -> [OutboxMessage] {
        guard settings.canSend, let from = settings.from else { return [] }
        let recipients = settings.recipients(adding: school.alertTo)
        guard !recipients.isEmpty else { return [] }

        var messages: [(subject: String, body: String)] = []
        let downs = changes.filter { if case .wentDown = $0.transition { true } else { false } }
        let ups = changes.filter { if case .recovered = $0.transition { true } else { false } }
        let reminders = changes.filter { if case .stillDown = $0.transition { true } else { false } }
        let everyProbe = school.probes.count > 1

        if everyProbe && downs.count == school.probes.count {
            messages.append((
                "[governor] DOWN: all \(downs.count) probes of school \(school.name)",
                "Every probe of school \(school.name) missed \(settings.missedRuns) runs in a row: the school's link may be down.\n\n"
                    + downs.map { describe($0, in: school) }.joined(separator: "\n")))
        } else {
            for change in downs {
                messages.append(("[governor] DOWN: probe \(change.probe.name) of school \(school.name)",
                                 "Probe \(change.probe.name) of school \(school.name) missed \(settings.missedRuns) runs in a row.\n\n" + describe(change, in: school)))
            }
        }
        if everyProbe && ups.count == school.probes.count {
            messages.append(("[governor] UP: all \(ups.count) probes of school \(school.name) are back",
                             "Every probe of school \(school.name) is heard from again.\n\n" + ups.map { describe($0, in: school) }.joined(separator: "\n")))
        } else {
            for change in ups {
                messages.append(("[governor] UP: probe \(change.probe.name) of school \(school.name) is back",
                                 "Probe \(change.probe.name) of school \(school.name) is heard from again.\n\n" + describe(change, in: school)))
            }
        }
        for change in reminders {
            messages.append(("[governor] still DOWN: probe \(change.probe.name) of school \(school.name)",
                             "Probe \(change.probe.name) of school \(school.name) is still not heard from.\n\n" + describe(change, in: school)))
        }
        var footer = ""
        if !conflicts.isEmpty {
            footer += "\nIdentity conflict: " + conflicts.map { line in
                "probe \(line.probe) was seen switching \(line.conflict.switches) times in 24 h between "
                    + "\(line.conflict.addresses.map(\.description).joined(separator: ", ")) (\(line.conflict.source == .measurement ? "as the measurement servers saw it" : "its requests"))"
            }.joined(separator: "; ") + ". One id on several boxes (a cloned SD card) or one token shared by them does this; "
                + "each box needs its own id and token, or its runs and misses are mixed up with another's.\n"
        }
        if let publicURL {
            footer += "\nDashboard: \(publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL)/schools/\(school.name)\n"
        }
        return messages.map { message in
            OutboxMessage(messageId: "\(UUID().uuidString.lowercased())@\(hostName)", sender: from, recipients: recipients,
                          subject: message.subject, body: message.body + footer + "\n-- \ngovernor on \(hostName)\n", createdAt: now)
        }
    }

    private func describe(_ change: ProbeChange, in school: SchoolConfig) -> String {
        var lines = [
            "Probe:        \(change.probe.name)\(change.probe.label.map { " (\($0))" } ?? "")",
            "School:       \(school.name) (time zone \(school.timeZoneName))",
        ]
        if !school.labels.isEmpty { lines.append("Labels:       \(school.labels)") }
        lines += [
            "Mode:         \(change.probe.mode == .pull ? "pull (asks the governor for its run times)" : "push (dispatched over SSH)")",
        ]
        if let address = change.probe.address { lines.append("Address:      \(address)") }
        lines.append("Last contact: \(change.lastContact.map { time($0, in: school) } ?? "never")")
        switch change.transition {
        case .wentDown(let missed), .stillDown(let missed, _):
            if case .stillDown(_, let since) = change.transition { lines.append("DOWN since:   \(time(since, in: school))") }
            lines.append("Missed runs:")
            lines += missed.map { run in
                let reason = change.judgements[run]?.reason.map { reason in
                    "  \(reason.rawValue)\(change.judgements[run]?.detail.map { ": \($0)" } ?? "")"
                } ?? ""
                return "  \(time(run, in: school))\(reason)"
            }
        case .recovered(let downSince, let missedCount):
            lines.append("Was DOWN:     \(Self.duration(change.lastContact.map { $0 - downSince } ?? 0)), since \(time(downSince, in: school))")
            lines.append("Runs missed:  \(missedCount)")
        }
        lines.append("Next run:     \(change.nextRun.map { time($0, in: school) } ?? "none scheduled yet")")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `2026-11-23 08:05:00 CET (2026-11-23T07:05:00Z)`
    private func time(_ instant: UnixTime, in school: SchoolConfig) -> String {
        Self.time(instant, in: school.timeZone)
    }

    /// `2026-11-23 08:05:00 CET (2026-11-23T07:05:00Z)`
    static func time(_ instant: UnixTime, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
        return "\(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant)))) (\(RFC3339.format(instant)))"
    }

    static func duration(_ seconds: UnixTime) -> String {
        let seconds = max(0, seconds)
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }
}
