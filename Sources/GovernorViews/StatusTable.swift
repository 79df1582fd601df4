public import GovernorWire
import Foundation
import GovernorCore

/// `governor status` in the terminal: the dashboard's counts and school tables as
/// aligned plain text.
public enum StatusTable {
    /// - Parameter server: where the report came from, for the first line.
    public static func render(_ report: StatusReport, server: String) -> String {
        let summary = report.summary
        var lines = [
            "governor \(report.version) at \(server), up \(DisplayFormat.duration(report.uptimeSeconds)), as of \(RFC3339.format(report.generatedAt.unixTime))",
            "schools \(summary.schools)  probes \(summary.probes)  UP \(summary.up)  DOWN \(summary.down)  never seen \(summary.neverSeen)"
                + "  alerts pending \(summary.outboxPending)" + (summary.outboxFailing > 0 ? " (\(summary.outboxFailing) failing)" : "")
                + (summary.incidentsOpen.map { $0 > 0 ? "  incidents open \($0) (GET /v1/incidents)" : "" } ?? ""),
        ]
        if let measurements = summary.measurements { lines.append(measurementLine(measurements)) }
        if let egress = summary.egress { lines.append(egressLine(egress)) }
        let now = report.generatedAt.unixTime
        for school in report.schools {
            let format = DisplayFormat(timeZone: TimeZone(identifier: school.timezone) ?? .gmt, now: now)
            // Runs kept on a closed day are rare: counted only when there are some.
            let outcomes = RunOutcome.allCases.compactMap { outcome -> String? in
                let count = school.today.runs.count { $0.outcome == outcome }
                return outcome == .closed && count == 0 ? nil : "\(count) \(outcome.rawValue)"
            }
            lines.append("")
            lines.append("\(school.name) (\(school.timezone), \(school.file)) today: "
                + (school.today.closed.map { "closed (\($0)), " } ?? "") + outcomes.joined(separator: ", "))
            if let labels = school.labels, !labels.isEmpty {
                lines.append("  labels: " + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
            }
            if let measurement = school.measurement { lines.append("  " + standingLine(measurement)) }
            guard !school.probes.isEmpty else {
                lines.append("  no probes")
                continue
            }
            let header = ["PROBE", "MODE", "LABEL/ADDRESS", "STATE", "SINCE", "LAST CONTACT", "MISSED", "CLOCK", "LAST RESULT", "NEXT RUN"]
            let rows = school.probes.map { row(of: $0, format: format) }
            lines += aligned([header] + rows).map { "  " + $0 }
            for probe in school.probes {
                guard let egress = probe.egress else { continue }
                if egress.sharedCount > 0 {
                    lines.append("  \(probe.probe): egress \(egress.address) shared with "
                        + egress.sharedWith.map { "\($0.probe) (\($0.school))" }.joined(separator: ", ")
                        + (egress.sharedCount > egress.sharedWith.count ? " and \(egress.sharedCount - egress.sharedWith.count) more" : ""))
                }
                if let conflict = egress.identityConflict {
                    lines.append("  \(probe.probe): identity conflict: " + IdentityConflict.describe(conflict, format: format))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `measurements: 7 of 9 measured schools meet their target (78 %), 2 of 3 reach 80 % of their contract (67 %), 9 of 10 reported in 7 open days (90 %); 7 meets, 1 below, 1 poor, 1 no data`
    static func measurementLine(_ m: MeasurementOverview) -> String {
        func share(_ value: Double?) -> String { value.map { " (\(Int(($0 * 100).rounded())) %)" } ?? "" }
        return "measurements: \(m.meetingTarget) of \(m.measured) measured schools meet their target\(share(m.meetingTargetShare)), "
            + "\(m.reachingContract) of \(m.contracted) reach 80 % of their contract\(share(m.reachingContractShare)), "
            + "\(m.reportedRecently) of \(m.schools) reported in 7 open days\(share(m.reportedRecentlyShare)); "
            + "\(m.meets) meets, \(m.below) below, \(m.poor) poor, \(m.noData) no data" + (m.complete ? "" : " (still reading the stored measurements)")
    }

    /// `egress: 3 shared by 8 probes, 1 identity conflict, 2 over daily_tests_per_egress = 4`
    static func egressLine(_ e: EgressOverview) -> String {
        "egress: \(e.sharedEgresses) shared by \(e.probesSharing) probes, \(e.identityConflictCount) identity conflict\(e.identityConflictCount == 1 ? "" : "s")"
            + (e.dailyTestsPerEgress.map { ", \(e.overDailyBudgetCount) over daily_tests_per_egress = \($0)" } ?? "")
    }

    /// `measured: below, median 12.5 down / 3.1 up Mbit/s over 48 tests, target 20 (benchmark)`; a
    /// school judged by its group runs says so.
    static func standingLine(_ m: SchoolMeasurement) -> String {
        let target = "target \(SchoolTarget.format(m.targetDownloadMbps)) (\(m.targetSource.rawValue))"
        guard let download = m.medianDownloadMbps else { return "measured: no data in the window, \(target)" }
        let upload = m.medianUploadMbps.map { " / \(SchoolTarget.format($0)) up" } ?? ""
        let over = m.byGroupRuns == true ? "\(m.measurements) group run(s), each its probes' sum" : "\(m.measurements) test(s)"
        return "measured: \(m.state.rawValue), median \(SchoolTarget.format(download)) down\(upload) Mbit/s over \(over), \(target)"
            + (m.reportedRecently ? "" : ", nothing in the last 7 open days")
    }

    static func row(of probe: ProbeRow, format: DisplayFormat) -> [String] {
        var lastResult = "none yet"
        if let result = probe.lastResult {
            lastResult = DisplayFormat.outcome(of: result)
            if let late = DisplayFormat.lateness(of: result) { lastResult += ", \(late)" }
        }
        let labelOrAddress: String = probe.label ?? probe.address ?? "-"
        let since: String = probe.stateSince.map { format.time($0.unixTime) } ?? "-"
        let contact: String = probe.lastContact.map { format.relative($0.unixTime) } ?? "never"
        let clock: String = probe.clockOffsetMs.map { DisplayFormat.offset(milliseconds: $0) } ?? "-"
        let next: String = probe.nextRun.map { format.time($0.unixTime) } ?? "-"
        let state = probe.state.rawValue + (probe.silenced.map { " (silenced until \(format.time($0.until.unixTime)))" } ?? "")
        return [probe.probe, probe.mode.rawValue + (probe.group.map { " (group \($0))" } ?? ""), labelOrAddress, state, since, contact, "\(probe.consecutiveMissed)", clock, lastResult, next]
    }

    /// Pads each column to its widest cell (counted in characters).
    static func aligned(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
