import GovernorWire
import Foundation
import GovernorCore

// The values the Mustache templates read. Everything is formatted here, in Swift,
// so that the templates only place text and numbers; Mustache escapes every `{{…}}`.

struct HeaderView {
    var title: String
    var version: String
    var uptime: String
    var generatedAt: String
    var refreshSeconds: Int
    var summary: StatusReport.Summary
    var downClass: String
    var outboxClass: String
    var hasOutboxFailing: Bool
    /// The fleet's measurement KPIs, as `governor status` words them; empty without any.
    var measurementsText: String
    var hasMeasurements: Bool
}

struct SchoolView {
    var name: String
    var href: String
    var timezone: String
    var file: String
    var date: String
    var probes: [ProbeView]
    var hasProbes: Bool
    var counts: String
    var timeline: TimelineView
}

struct SchoolLineView {
    var name: String
    var href: String
    var timezone: String
    var states: String
    var statesClass: String
    var reasons: String
    var today: String
    var spark: [SparkCell]
    var sparkLabel: String
}

struct SparkCell {
    var x: Int
    var className: String
    var title: String
}

struct OverviewPage {
    var header: HeaderView
    var attention: [SchoolLineView]
    var hasAttention: Bool
    var attentionText: String
    var moreAttention: Bool
    var moreAttentionHref: String
    var outboxFailing: Int
    var hasOutboxFailing: Bool
    var schools: [SchoolLineView]
    var hasSchools: Bool
    var emptyText: String
    var pageText: String
    var search: String
    var searching: Bool
    var hasFirst: Bool
    var firstHref: String
    var hasNext: Bool
    var nextHref: String
    var below: [BelowView]
    var hasBelow: Bool
    var belowText: String
    var hasMoreBelow: Bool
    var moreBelowHref: String
    /// "group by" links, one per label key; the groups of the key asked for.
    var groupLinks: [EgressLineView]
    var hasGroupLinks: Bool
    var groupTitle: String
    var groups: [GroupView]
    var hasGroups: Bool
    /// The label filter of the page, as text ("" for none).
    var labelText: String
    var hasLabelFilter: Bool
    var conflicts: [EgressLineView]
    var hasConflicts: Bool
    var conflictsText: String
    var busyEgresses: [EgressLineView]
    var hasBusyEgresses: Bool
    var busyText: String
    var incidents: [IncidentLineView]
    var hasIncidents: Bool
    var incidentsText: String
}

/// An incident on the front page: what, since when, and its schools (folded).
struct IncidentLineView {
    var id: Int64
    var title: String
    var detail: String
    var stateClass: String
    var schools: [EgressLineView]
    var schoolsText: String
}

struct BelowView {
    var name: String
    var href: String
    var state: String
    var stateClass: String
    var median: String
    var target: String
    var share: String
    var tests: String
}

struct ProbeView {
    var probe: String
    var mode: String
    var label: String
    var address: String
    var hasAddress: Bool
    var state: String
    var stateClass: String
    var since: String
    var lastContact: String
    var lastContactTitle: String
    var missed: Int
    var missedClass: String
    var clockOffset: String
    var lastResult: String
    var lastResultClass: String
    var lastResultHref: String
    var hasLastResult: Bool
    var lateness: String
    var nextRun: String
    var nextRunTitle: String
    var egress: String
    var hasEgress: Bool
    /// The other probes behind the same egress, named with their schools.
    var egressShared: String
    var hasEgressShared: Bool
    var egressConflict: String
    var hasEgressConflict: Bool
    /// `silenced until …: reason`, while a silence covers it.
    var silenced: String
    var hasSilenced: Bool
    /// Its group: it tests together with the group's other probes.
    var group: String
    var hasGroup: Bool
}

/// One value of a label, as the front page groups schools by it.
struct GroupView {
    var value: String
    var href: String
    var hasHref: Bool
    var schools: Int
    var schoolsDown: Int
    var probesDown: Int
    var downClass: String
}

/// A line of the front page's egress section: an identity conflict or a busy egress.
struct EgressLineView {
    var name: String
    var href: String
    var hasHref: Bool
    var detail: String
}

struct TimelineView {
    var width: Double
    var height: Double
    var labelX: Double
    var axisY: Double
    var tickEndY: Double
    var tickLabelY: Double
    var markRadius: Double
    var lanes: [LaneView]
    var bands: [BandView]
    var marks: [MarkView]
    var ticks: [TickView]
    var hasNow: Bool
    var nowX: Double
    var description: String
    var legend: [LegendEntry]
}

struct LaneView {
    var name: String
    var y: Double
    var textY: Double
}

struct BandView {
    var x: Double
    var width: Double
    var height: Double
    var className: String
    var title: String
}

struct MarkView {
    var x: Double
    var y: Double
    var className: String
    var title: String
    var runAt: String
    var probe: String
    var href: String
    var hasHref: Bool
}

struct TickView {
    var x: Double
    var label: String
    var labeled: Bool
}

struct LegendEntry {
    var className: String
    var label: String
}

struct ResultEntryView {
    var anchor: String
    var probe: String
    var runAt: String
    var outcome: String
    var outcomeClass: String
    var lateness: String
    var output: String
    var hasOutput: Bool
    var truncated: Bool
}

extension HeaderView {
    init(report: StatusReport, title: String, refreshSeconds: Int) {
        self.init(
            title: title, version: report.version, uptime: DisplayFormat.duration(report.uptimeSeconds),
            generatedAt: RFC3339.format(report.generatedAt.unixTime), refreshSeconds: refreshSeconds, summary: report.summary,
            downClass: report.summary.down > 0 ? "down" : "", outboxClass: report.summary.outboxFailing > 0 ? "down" : "",
            hasOutboxFailing: report.summary.outboxFailing > 0,
            measurementsText: report.summary.measurements.map(StatusTable.measurementLine) ?? "", hasMeasurements: report.summary.measurements != nil)
    }
}

extension SchoolView {
    init(school: SchoolStatus, now: UnixTime, size: TimelineLayout.Size) {
        let timeZone = TimeZone(identifier: school.timezone) ?? .gmt
        let format = DisplayFormat(timeZone: timeZone, now: now)
        let layout = TimelineLayout(day: school.today, probes: school.probes.map(\.probe), now: now, timeZone: timeZone, size: size)
        let down = school.probes.count { $0.state == .down }
        self.init(
            name: school.name, href: Self.href(of: school.name), timezone: school.timezone, file: school.file,
            date: school.today.date.description + (school.today.closed.map { " · closed: \($0)" } ?? ""), probes: school.probes.map { ProbeView($0, school: school.name, format: format) },
            hasProbes: !school.probes.isEmpty,
            counts: down > 0 ? "\(down) of \(school.probes.count) DOWN" : "\(school.probes.count) probe\(school.probes.count == 1 ? "" : "s")",
            timeline: TimelineView(layout: layout, school: school.name, date: school.today.date, format: format))
    }

    static func href(of school: String) -> String { "/schools/" + pathSegment(school) }

    /// School names are letters, digits, '-', '_' and '.', but escape anyway.
    static func pathSegment(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
    }
}

extension SchoolLineView {
    init(_ line: SchoolLine) {
        var states = ["\(line.up) UP"]
        if line.down > 0 { states.append("\(line.down) DOWN") }
        if line.neverSeen > 0 { states.append("\(line.neverSeen) never seen") }
        var reasons: [String] = []
        if line.down > 0 { reasons.append("\(line.down) DOWN") }
        if line.missing > 0 { reasons.append("\(line.missing) missing runs") }
        if line.failing > 0 { reasons.append("\(line.failing) latest result failed") }
        if line.skewed > 0 { reasons.append("\(line.skewed) clock off") }
        let today = (line.closed.map { ["closed today: \($0)"] } ?? [])
            + RunOutcome.allCases.compactMap { outcome in line.outcomes[outcome].map { "\($0) \(outcome.rawValue)" } }
        let hours = 24 / SchoolLine.hourCount
        self.init(
            name: line.name, href: SchoolView.href(of: line.name), timezone: line.timezone,
            states: states.joined(separator: " · "), statesClass: line.down > 0 ? "warn" : "",
            reasons: reasons.joined(separator: " · "),
            today: today.isEmpty ? "no runs today" : today.joined(separator: " · "),
            spark: line.hours.enumerated().compactMap { hour, outcome in
                outcome.map { SparkCell(x: hour * 4, className: "spark-\($0.rawValue)", title: "\(hour * hours):00 \($0.rawValue)") }
            },
            sparkLabel: "today's runs by hour at \(line.name)")
    }
}

extension IncidentLineView {
    init(_ incident: IncidentView, format: DisplayFormat) {
        let what = incident.scope == "fleet" ? "schools" : "schools with \(incident.scope)"
        id = incident.id
        title = "\(incident.schools.count) \(what) DOWN since \(format.time(incident.since.unixTime))"
        if let closed = incident.closedAt {
            detail = "closed \(format.time(closed.unixTime)): \(incident.recovered.count) back"
                + (incident.stillDown.isEmpty ? "" : ", \(incident.stillDown.count) still DOWN (\(incident.stillDown.prefix(5).joined(separator: ", "))"
                    + (incident.stillDown.count > 5 ? ", …" : "") + ")")
            stateClass = ""
        } else {
            detail = "open since \(format.time(incident.openedAt.unixTime)); the schools' own DOWN emails are held while it lasts"
            stateClass = "warn"
        }
        schools = incident.schools.map { EgressLineView(name: $0, href: SchoolView.href(of: $0), hasHref: true, detail: "") }
        schoolsText = "its \(incident.schools.count) school\(incident.schools.count == 1 ? "" : "s")"
    }
}

extension OverviewPage {
    init(_ overview: FleetOverview, refreshSeconds: Int) {
        let report = overview.report
        let summary = report.summary
        let page = report.page
        let lines = report.schools.map { SchoolLineView(SchoolLine($0, clockSkewMs: overview.clockSkewMs)) }
        let utc = DisplayFormat(timeZone: .gmt, now: report.generatedAt.unixTime)
        let labelQuery = overview.labelFilter.map { "label=" + Self.queryValue($0.description) + "&" }.joined()
        let searchQuery = (overview.search.isEmpty ? "" : "school=" + Self.queryValue(overview.search) + "&") + labelQuery
        let shown = page.map { "\($0.matchedSchools) school\($0.matchedSchools == 1 ? "" : "s")\(overview.search.isEmpty ? "" : " match “\(overview.search)”")" } ?? ""
        self.init(
            header: HeaderView(report: report, title: "\(summary.schools) school\(summary.schools == 1 ? "" : "s")", refreshSeconds: refreshSeconds),
            attention: overview.attention.map { SchoolLineView(SchoolLine($0, clockSkewMs: overview.clockSkewMs)) },
            hasAttention: overview.attentionSchools > 0,
            attentionText: overview.attentionSchools == 0 ? "" :
                "\(overview.attentionProbes) probe\(overview.attentionProbes == 1 ? "" : "s") in \(overview.attentionSchools) school\(overview.attentionSchools == 1 ? "" : "s")",
            moreAttention: overview.attentionSchools > overview.attention.count,
            moreAttentionHref: "/?attention=true",
            outboxFailing: summary.outboxFailing, hasOutboxFailing: summary.outboxFailing > 0,
            schools: lines, hasSchools: !lines.isEmpty,
            emptyText: summary.schools == 0
                ? "No schools are configured. Add a .cfg file to the schools directory and reload."
                : "No school matches “\(overview.search)”.",
            pageText: shown, search: overview.search, searching: !overview.search.isEmpty,
            hasFirst: overview.cursor != nil, firstHref: "/" + (searchQuery.isEmpty ? "" : "?" + searchQuery.dropLast()),
            hasNext: page?.nextCursor != nil,
            nextHref: page?.nextCursor.map { "/?" + searchQuery + "cursor=" + Self.queryValue($0) } ?? "",
            below: overview.belowTarget.map(BelowView.init), hasBelow: !overview.belowTarget.isEmpty,
            belowText: overview.belowTotal == 0 ? "" : "\(overview.belowOffset + 1)–\(overview.belowOffset + overview.belowTarget.count) of \(overview.belowTotal)",
            hasMoreBelow: overview.belowOffset + overview.belowTarget.count < overview.belowTotal,
            moreBelowHref: "/?below=\(overview.belowOffset + overview.belowTarget.count)",
            groupLinks: overview.labelKeys.map { key in
                EgressLineView(name: key, href: "/?group=" + Self.queryValue(key), hasHref: key != overview.groupKey, detail: "")
            },
            hasGroupLinks: !overview.labelKeys.isEmpty,
            groupTitle: overview.groupKey.map { "Schools by \($0)" } ?? "",
            groups: overview.groups.map { group in
                GroupView(value: group.value ?? "(none)",
                          href: group.value.map { "/?label=" + Self.queryValue("\(group.key)=\($0)") } ?? "", hasHref: group.value != nil,
                          schools: group.schools, schoolsDown: group.schoolsDown, probesDown: group.probesDown,
                          downClass: group.schoolsDown > 0 ? "warn" : "")
            },
            hasGroups: overview.groupKey != nil,
            labelText: overview.labelFilter.map(\.description).joined(separator: ", "),
            hasLabelFilter: !overview.labelFilter.isEmpty,
            conflicts: summary.egress?.identityConflicts.map { line in
                EgressLineView(name: line.probe, href: SchoolView.href(of: line.school), hasHref: true,
                               detail: "school \(line.school): " + IdentityConflict.describe(line.conflict, format: utc))
            } ?? [],
            hasConflicts: (summary.egress?.identityConflictCount ?? 0) > 0,
            conflictsText: summary.egress.map { "\($0.identityConflictCount) probe\($0.identityConflictCount == 1 ? "" : "s")" } ?? "",
            busyEgresses: summary.egress?.overDailyBudget.map { busy in
                EgressLineView(name: busy.address, href: "", hasHref: false,
                               detail: "\(busy.testsLast24h) tests in 24 h from \(busy.probeCount) probe\(busy.probeCount == 1 ? "" : "s"): "
                                   + busy.probes.joined(separator: ", ") + (busy.probeCount > busy.probes.count ? ", …" : ""))
            } ?? [],
            hasBusyEgresses: (summary.egress?.overDailyBudgetCount ?? 0) > 0,
            busyText: summary.egress.map { egress in
                "\(egress.overDailyBudgetCount) over daily_tests_per_egress = \(egress.dailyTestsPerEgress.map(String.init) ?? "-")"
            } ?? "",
            incidents: overview.incidents.map { IncidentLineView($0, format: utc) },
            hasIncidents: !overview.incidents.isEmpty,
            incidentsText: Self.incidentsText(overview.incidents))
    }

    static func incidentsText(_ incidents: [IncidentView]) -> String {
        let open: Int = incidents.count { $0.open }
        return "\(open) open, \(incidents.count - open) closed in the last week"
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

extension BelowView {
    init(_ line: BelowTargetLine) {
        let m = line.measurement
        self.init(
            name: line.school, href: "/schools/" + OverviewPage.queryValue(line.school), state: m.state.rawValue,
            stateClass: m.state == .poor ? "down" : "warn",
            median: m.medianDownloadMbps.map { SchoolTarget.format($0) + " Mbit/s" } ?? "-",
            target: SchoolTarget.format(m.targetDownloadMbps) + " Mbit/s (" + m.targetSource.rawValue + ")",
            share: m.medianDownloadMbps.map { "\(Int(($0 / m.targetDownloadMbps * 100).rounded(.down))) %" } ?? "-",
            tests: "\(m.measurements)")
    }
}

extension ProbeView {
    init(_ row: ProbeRow, school schoolName: String, format: DisplayFormat) {
        let result = row.lastResult
        self.init(
            probe: row.probe, mode: row.mode.rawValue, label: row.label ?? "", address: row.address ?? "", hasAddress: row.address != nil,
            state: row.state.rawValue,
            stateClass: row.state.cssClass,
            since: row.stateSince.map { "since " + format.time($0.unixTime) } ?? "",
            lastContact: row.lastContact.map { format.relative($0.unixTime) } ?? "never",
            lastContactTitle: row.lastContact.map { format.time($0.unixTime) } ?? "",
            missed: row.consecutiveMissed, missedClass: row.consecutiveMissed > 0 ? "warn" : "",
            clockOffset: row.clockOffsetMs.map { DisplayFormat.offset(milliseconds: $0) } ?? "–",
            lastResult: result.map(DisplayFormat.outcome(of:)) ?? "none yet",
            lastResultClass: result.map { $0.succeeded ? "done" : "failed" } ?? "",
            lastResultHref: result.map { SchoolView.href(of: schoolName) + "#result-\($0.id)" } ?? "",
            hasLastResult: result != nil,
            lateness: result.flatMap(DisplayFormat.lateness(of:)) ?? "",
            nextRun: row.nextRun.map { format.time($0.unixTime) } ?? "–",
            nextRunTitle: row.nextRun.map { format.relative($0.unixTime) } ?? "",
            egress: row.egress.map { "\($0.address) (\($0.source == .measurement ? "measured" : "request"))" } ?? "–",
            hasEgress: row.egress != nil,
            egressShared: row.egress.map { egress in
                let named = egress.sharedWith.map { "\($0.probe) (\($0.school))" }
                return "shared with " + named.joined(separator: ", ") + (egress.sharedCount > named.count ? " and \(egress.sharedCount - named.count) more" : "")
            } ?? "",
            hasEgressShared: (row.egress?.sharedCount ?? 0) > 0,
            egressConflict: row.egress?.identityConflict.map { "identity conflict: " + IdentityConflict.describe($0, format: format) } ?? "",
            hasEgressConflict: row.egress?.identityConflict != nil,
            silenced: row.silenced.map { "silenced until \(format.time($0.until.unixTime)): \($0.reason)" } ?? "",
            hasSilenced: row.silenced != nil, group: row.group ?? "", hasGroup: row.group != nil)
    }
}

extension ProbeState {
    var cssClass: String {
        switch self {
        case .up: "up"
        case .down: "down"
        case .neverSeen: "never"
        }
    }
}

extension TimelineView {
    init(layout: TimelineLayout, school: String, date: LocalDate, format: DisplayFormat) {
        let laneHeight = layout.size.laneHeight
        self.init(
            width: layout.size.width, height: layout.height, labelX: 4, axisY: layout.axisY, tickEndY: layout.axisY + 4, tickLabelY: layout.axisY + 16,
            markRadius: min(laneHeight * 0.3, 8),
            lanes: layout.lanes.enumerated().map { index, name in
                let top = TimelineLayout.topPadding + Double(index) * laneHeight
                return LaneView(name: name.count > 18 ? String(name.prefix(17)) + "…" : name, y: top, textY: (top + laneHeight / 2 + 4).roundedToTenth)
            },
            bands: layout.bands.map { box in
                BandView(x: box.x, width: box.width, height: layout.axisY - TimelineLayout.topPadding,
                         className: box.band.generated ? "window" : "window ungenerated",
                         title: "window \(format.time(box.band.start.unixTime))–\(format.time(box.band.end.unixTime))"
                            + (box.band.generated ? "" : " (run times not drawn yet)"))
            },
            marks: layout.marks.map { mark in
                MarkView(x: mark.x, y: mark.y, className: "run \(mark.run.outcome.rawValue)",
                         title: "\(mark.run.probe) \(format.time(mark.run.runAt.unixTime)): \(mark.run.outcomeText)",
                         runAt: RFC3339.format(mark.run.runAt.unixTime), probe: mark.run.probe,
                         href: mark.run.resultID.map { SchoolView.href(of: school) + "#result-\($0)" } ?? "",
                         hasHref: mark.run.resultID != nil)
            },
            ticks: layout.ticks.map { TickView(x: $0.x, label: $0.label, labeled: $0.labeled) },
            hasNow: layout.nowX != nil, nowX: layout.nowX ?? 0,
            description: "Runs of school \(school) on \(date): "
                + RunOutcome.allCases.map { outcome in "\(layout.marks.count { $0.run.outcome == outcome }) \(outcome.rawValue)" }.joined(separator: ", "),
            legend: RunOutcome.allCases.map { LegendEntry(className: "run \($0.rawValue)", label: $0.rawValue) })
    }
}

extension ResultEntryView {
    init(_ detail: ResultDetail, format: DisplayFormat) {
        let summary = detail.summary
        self.init(
            anchor: "result-\(summary.id)", probe: detail.group.map { "\(detail.probe) (group run of \($0))" } ?? detail.probe,
            runAt: summary.runAt.map { format.time($0.unixTime) } ?? "–",
            outcome: summary.failure ?? summary.exitCode.map { "exit \($0)" } ?? "no exit status",
            outcomeClass: summary.succeeded ? "done" : "failed",
            lateness: DisplayFormat.lateness(of: summary) ?? "–",
            output: Self.printable(detail.output), hasOutput: !detail.output.isEmpty, truncated: detail.outputTruncated)
    }

    /// The output without control characters other than tab and newline (terminal
    /// colour codes, say), which HTML and XML do not allow in text.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { scalar in
            scalar == "\t" || scalar == "\n" || !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value))
        }))
    }
}

extension IdentityConflict {
    /// `switched 3 times between 203.0.113.1, 198.51.100.2 (requests) since 09:12`
    static func describe(_ conflict: IdentityConflict, format: DisplayFormat) -> String {
        "switched \(conflict.switches) times between \(conflict.addresses.joined(separator: ", ")) "
            + "(\(conflict.source == .measurement ? "measured" : "requests")) since \(format.time(conflict.since.unixTime))"
    }
}
