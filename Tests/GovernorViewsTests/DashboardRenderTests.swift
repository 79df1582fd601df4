import Foundation
import FoundationXML
import GovernorCore
import Mustache
import Testing

@testable import GovernorViews
import GovernorWire

/// The dashboard rendered from fixed state: it parses, and the timeline shows every
/// run where it belongs.
@Suite struct DashboardRenderTests {
    /// 2026-11-23 in Rome (UTC+1): windows 08:00–09:00 and 10:00–11:00 local.
    static let rome = TimeZone(identifier: "Europe/Rome")!
    static let windowOne = (start: RFC3339.parse("2026-11-23T07:00:00Z")!, end: RFC3339.parse("2026-11-23T08:00:00Z")!)
    static let windowTwo = (start: RFC3339.parse("2026-11-23T09:00:00Z")!, end: RFC3339.parse("2026-11-23T10:00:00Z")!)
    static let now = RFC3339.parse("2026-11-23T09:30:00Z")!

    static let runs: [TimelineDay.Run] = [
        .init(probe: "lab-1", runAt: Instant(windowOne.start + 300), outcome: .done, resultID: 11),
        .init(probe: "lab-2", runAt: Instant(windowOne.start + 1500), outcome: .failed, resultID: 12),
        .init(probe: "lab-1", runAt: Instant(windowOne.start + 2700), outcome: .missed),
        .init(probe: "lab-2", runAt: Instant(windowTwo.start + 600), outcome: .done, resultID: 13),
        .init(probe: "lab-1", runAt: Instant(windowTwo.start + 2400), outcome: .pending),
        .init(probe: "lab-2", runAt: Instant(windowTwo.start + 3300), outcome: .pending),
    ]

    static func school(name: String = "liceo-galilei", label: String? = "Lab PC <1>") -> SchoolStatus {
        let date = LocalDate(year: 2026, month: 11, day: 23)!
        let today = TimelineDay(
            date: date, start: Instant(RFC3339.parse("2026-11-22T23:00:00Z")!), end: Instant(RFC3339.parse("2026-11-23T23:00:00Z")!),
            windows: [
                .init(start: Instant(windowOne.start), end: Instant(windowOne.end), generated: true),
                .init(start: Instant(windowTwo.start), end: Instant(windowTwo.end), generated: true),
            ],
            runs: runs)
        let probes = [
            ProbeRow(probe: "lab-1", mode: .pull, label: label, address: nil, state: .up, stateSince: Instant(windowOne.start - 86_400),
                     lastContact: Instant(now - 90), consecutiveMissed: 1, clockOffsetMs: 1.25,
                     lastResult: ResultSummary(id: 11, runAt: Instant(windowOne.start + 300), exitCode: 0, failure: nil, latenessMs: 3),
                     nextRun: Instant(windowTwo.start + 2400)),
            ProbeRow(probe: "lab-2", mode: .push, label: nil, address: "ndt@10.1.2.3", state: .down, stateSince: Instant(windowOne.end),
                     lastContact: nil, consecutiveMissed: 4, clockOffsetMs: nil,
                     lastResult: ResultSummary(id: 13, runAt: Instant(windowTwo.start + 600), exitCode: nil, failure: "connect: connection refused", latenessMs: nil),
                     nextRun: Instant(windowTwo.start + 3300)),
        ]
        return SchoolStatus(name: name, timezone: "Europe/Rome", file: "/etc/governor/schools/\(name).cfg", probes: probes, today: today)
    }

    static func report(schools: [SchoolStatus] = [school()]) -> StatusReport {
        StatusReport(version: "9.9.9", generatedAt: Instant(now), startedAt: Instant(now - 7_500),
                     summary: .init(schools: schools.count, probeStates: schools.flatMap(\.probes).map(\.state), outboxPending: 2, outboxFailing: 1),
                     schools: schools)
    }

    /// `/` with `report`'s schools as its page and, by default, as its attention list.
    static func overview(_ report: StatusReport = report(), attention: [SchoolStatus]? = nil, search: String = "", cursor: String? = nil) -> FleetOverview {
        let attention = attention ?? report.schools
        return FleetOverview(report: report, attention: attention, attentionSchools: attention.count,
                             attentionProbes: attention.reduce(0) { $0 + $1.probes.count }, search: search, cursor: cursor, clockSkewMs: 1000)
    }

    /// The school page of the fixed school.
    static func schoolPage() -> String {
        DashboardRenderer().school(school(), of: report(), results: [])
    }

    /// Reads the page as XML: the markup is meant to be well-formed.
    static func parse(_ html: String) throws -> XMLDocument {
        try XMLDocument(xmlString: html, options: [])
    }

    static func elements(_ document: XMLDocument, _ name: String, class className: String? = nil) throws -> [XMLElement] {
        let predicate = className.map { " and contains(concat(' ', @class, ' '), ' \($0) ')" } ?? ""
        return try document.nodes(forXPath: "//*[local-name()='\(name)'\(predicate)]").compactMap { $0 as? XMLElement }
    }

    static func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.localName == name || $0.name == name }?.stringValue
    }

    /// The axis runs over whole local hours around the windows: 08:00–11:00 Rome,
    /// 07:00Z–10:00Z, drawn from x = 150 (after the probe names) to 1200 − 24.
    static func expectedX(_ instant: UnixTime) -> Double {
        let start = windowOne.start, end = windowTwo.end
        return ((150 + Double(instant - start) / Double(end - start) * (1200 - 150 - 24)) * 10).rounded() / 10
    }

    @Test func schoolPageParsesAndHasOneMarkPerRunAtItsTime() throws {
        let html = Self.schoolPage()
        let document = try Self.parse(html)
        let marks = try Self.elements(document, "circle", class: "run")
        // The legend has one circle per outcome too; the timeline's carry data-run-at.
        let runMarks = marks.filter { Self.attribute($0, "data-run-at") != nil }
        #expect(runMarks.count == Self.runs.count)
        for run in Self.runs {
            let mark = try #require(runMarks.first { Self.attribute($0, "data-run-at") == RFC3339.format(run.runAt.unixTime) },
                                    "no mark for the run at \(RFC3339.format(run.runAt.unixTime))")
            #expect(Double(Self.attribute(mark, "cx") ?? "") == Self.expectedX(run.runAt.unixTime))
            #expect(Self.attribute(mark, "class") == "run \(run.outcome.rawValue)")
            #expect(Self.attribute(mark, "data-probe") == run.probe)
        }
        // Each probe's marks share a lane.
        let lanes = Dictionary(grouping: runMarks) { Self.attribute($0, "data-probe") ?? "" }.mapValues { Set($0.compactMap { Self.attribute($0, "cy") }) }
        #expect(lanes["lab-1"]?.count == 1 && lanes["lab-2"]?.count == 1 && lanes["lab-1"] != lanes["lab-2"])
    }

    @Test func timelineDrawsWindowsNowAndLocalHours() throws {
        let document = try Self.parse(Self.schoolPage())
        let bands = try Self.elements(document, "rect", class: "window")
        #expect(bands.map { Double(Self.attribute($0, "x") ?? "") } == [Self.expectedX(Self.windowOne.start), Self.expectedX(Self.windowTwo.start)])
        let now = try #require(try Self.elements(document, "line", class: "now").first)
        #expect(Double(Self.attribute(now, "x1") ?? "") == Self.expectedX(Self.now))
        let labels = try Self.elements(document, "text", class: "tick-label").map(\.stringValue)
        #expect(labels == ["08:00", "09:00", "10:00", "11:00"])
    }

    @Test func overviewShowsTheCountsWhatNeedsAttentionAndALinePerSchool() throws {
        var report = Self.report()
        report.page = StatusReport.Page(limit: 1, matchedSchools: 7, matchedProbes: 14, nextCursor: "liceo-galilei")
        let html = DashboardRenderer().overview(Self.overview(report))
        let document = try Self.parse(html)
        let tiles = try Self.elements(document, "div", class: "tile").map { $0.stringValue ?? "" }
        #expect(tiles == ["1schools", "2probes", "1UP", "1DOWN", "0never seen", "2alerts pending (1 failing)"])
        // Attention first, then the page: one line per school each, no probe rows, no timelines.
        let lines = try Self.elements(document, "tr", class: "school-line")
        #expect(lines.compactMap { Self.attribute($0, "data-school") } == ["liceo-galilei", "liceo-galilei"])
        let line = lines[0].stringValue ?? ""
        #expect(line.contains("1 UP · 1 DOWN") && line.contains("1 DOWN · 2 missing runs · 1 latest result failed") && !line.contains("clock off"))
        #expect(line.contains("2 done · 1 failed · 1 missed · 2 pending"))
        #expect(try Self.elements(document, "tr", class: "probe").isEmpty && !html.contains("data-run-at"))
        // Today by local hour: 08:00 holds a failed run (and a done and a missed one), 10:00 pending ones.
        let cells = try Self.elements(document, "rect").filter { (Self.attribute($0, "class") ?? "").hasPrefix("spark-") }
        #expect(cells.prefix(2).map { [Self.attribute($0, "x"), Self.attribute($0, "class")] } == [["32", "spark-failed"], ["40", "spark-pending"]])
        #expect(html.contains("1 alert email(s) failing to send"))
        #expect(html.contains("7 schools") && html.contains("2 probes in 1 school"))
        let links = try Self.elements(document, "a").compactMap { Self.attribute($0, "href") }
        #expect(links.contains("/?cursor=liceo-galilei") && links.contains("/schools/liceo-galilei") && !html.contains("first page"))
        #expect(html.contains("version 9.9.9") && html.contains("up 2 h 5 min"))
        #expect(!html.contains("<script"))
    }

    @Test func overviewPagesKeepTheSearch() throws {
        var report = Self.report()
        report.page = StatusReport.Page(limit: 1, matchedSchools: 3, matchedProbes: 6, nextCursor: "liceo b&c")
        let html = DashboardRenderer().overview(Self.overview(report, attention: [], search: "liceo b&c", cursor: "a"))
        let document = try Self.parse(html)
        let links = try Self.elements(document, "a").compactMap { Self.attribute($0, "href") }
        #expect(links.contains("/?school=liceo%20b%26c&cursor=liceo%20b%26c") && links.contains("/?school=liceo%20b%26c"))
        #expect(html.contains("Nothing: no probe is DOWN") && html.contains("3 schools match “liceo b&amp;c”"))
        let search = try #require(try Self.elements(document, "input").first)
        #expect(Self.attribute(search, "value") == "liceo b&c")
    }

    @Test func textIsEscaped() throws {
        let page = DashboardRenderer().school(Self.school(label: "</td><script>alert(1)</script>"), of: Self.report(), results: [])
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;/td&gt;&lt;script&gt;"))
        _ = try Self.parse(page)
        let overview = DashboardRenderer().overview(Self.overview(search: "<script>alert(1)</script>"))
        #expect(!overview.contains("<script>") && overview.contains("&lt;script&gt;"))
        _ = try Self.parse(overview)
    }

    @Test func emptyConfigurationSaysSo() throws {
        let html = DashboardRenderer().overview(Self.overview(Self.report(schools: [])))
        _ = try Self.parse(html)
        #expect(html.contains("No schools are configured"))
    }

    @Test func schoolPageHasTheResultsOutputAClickAway() throws {
        let results = [
            ResultDetail(summary: ResultSummary(id: 13, runAt: Instant(Self.windowTwo.start + 600), exitCode: nil, failure: "connect: connection refused", latenessMs: nil),
                         probe: "lab-2", output: "", outputTruncated: false),
            ResultDetail(summary: ResultSummary(id: 11, runAt: Instant(Self.windowOne.start + 300), exitCode: 0, failure: nil, latenessMs: 3),
                         probe: "lab-1", output: "\u{1B}[1mDownload\u{1B}[0m: 93.4 Mbit/s\n<upload> & more", outputTruncated: true),
        ]
        let school = Self.school()
        let html = DashboardRenderer().school(school, of: Self.report(), results: results)
        let document = try Self.parse(html)
        let details = try Self.elements(document, "details", class: "result")
        #expect(details.compactMap { Self.attribute($0, "id") } == ["result-13", "result-11"])
        let output = try Self.elements(document, "pre").map { $0.stringValue ?? "" }
        #expect(output == ["[1mDownload[0m: 93.4 Mbit/s\n<upload> & more"])
        #expect(html.contains("Output truncated"))
        // Marks of runs with a result link to it.
        let links = try Self.elements(document, "a").compactMap { Self.attribute($0, "href") }
        #expect(links.contains("/schools/liceo-galilei#result-11") && links.contains("/schools/liceo-galilei#result-12"))
        // The large layout: still one mark per run.
        #expect(try Self.elements(document, "circle").filter { Self.attribute($0, "data-run-at") != nil }.count == Self.runs.count)
    }

    @Test func hoursFollowTheSchoolsClockOnDSTDays() {
        let newYork = TimeZone(identifier: "America/New_York")!
        // 2026-03-08: 02:00 local does not exist.
        let date = LocalDate(year: 2026, month: 3, day: 8)!
        let start = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: date, in: newYork)
        let end = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: date.adding(days: 1), in: newYork)
        #expect(end - start == 23 * 3600)
        let hours = TimelineLayout.hourInstants(of: date, in: newYork, from: start, through: end)
        #expect(hours.count == 24)  // 00:00 … 23:00 without 02:00, then the next midnight
        #expect(!hours.contains { $0.1 == 2 })
        #expect(hours.map(\.0) == hours.map(\.0).sorted())
        // The autumn day has 25 hours and 01:00 once (its first occurrence).
        let autumn = LocalDate(year: 2026, month: 11, day: 1)!
        let autumnStart = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: autumn, in: newYork)
        let autumnEnd = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: autumn.adding(days: 1), in: newYork)
        #expect(autumnEnd - autumnStart == 25 * 3600)
        #expect(TimelineLayout.hourInstants(of: autumn, in: newYork, from: autumnStart, through: autumnEnd).count == 25)
    }

    @Test func terminalTableShowsTheSameRows() throws {
        let text = StatusTable.render(Self.report(), server: "http://127.0.0.1:8080")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("governor 9.9.9 at http://127.0.0.1:8080, up 2 h 5 min"))
        #expect(lines[1] == "schools 1  probes 2  UP 1  DOWN 1  never seen 0  alerts pending 2 (1 failing)")
        var withIncident = Self.report()
        withIncident.summary.incidentsOpen = 1
        #expect(StatusTable.render(withIncident, server: "x").split(separator: "\n")[1].hasSuffix("  incidents open 1 (GET /v1/incidents)"))
        #expect(lines.contains("liceo-galilei (Europe/Rome, /etc/governor/schools/liceo-galilei.cfg) today: 2 done, 1 failed, 1 missed, 2 pending, 0 unannounced"))
        let header = lines.first { $0.hasPrefix("  PROBE") } ?? ""
        let lab2 = lines.first { $0.hasPrefix("  lab-2") } ?? ""
        // Columns line up: each value starts where its header does.
        let column = header.range(of: "LAST RESULT").map { header.distance(from: header.startIndex, to: $0.lowerBound) } ?? -1
        #expect(column > 0 && lab2.dropFirst(column).hasPrefix("connect: connection refused"))
        #expect(lab2.contains("DOWN") && lab2.contains("never"))
    }

    @Test("the terminal shows the fleet's KPIs and each school's median against its target")
    func terminalTableShowsMeasurements() throws {
        var report = Self.report()
        report.summary.measurements = MeasurementOverview(
            MeasurementKPIs(schools: 10, measured: 9, meetingTarget: 7, contracted: 3, reachingContract: 2, reportedRecently: 9),
            states: [.meets: 7, .below: 1, .poor: 1, .noData: 1], complete: false)
        let settings = MeasurementSettings(targetDownloadMbps: 20)
        let target = SchoolTarget(profile: SchoolProfile(), settings: settings)
        report.schools[0].measurement = SchoolMeasurement(SchoolStanding.judge(downloads: [12.5, 11, 14], uploads: [3.1], reportedRecently: true, target: target,
                                                                               profile: SchoolProfile(), settings: settings))
        let lines = StatusTable.render(report, server: "http://127.0.0.1:8080").split(separator: "\n").map(String.init)
        #expect(lines[2] == "measurements: 7 of 9 measured schools meet their target (78 %), 2 of 3 reach 80 % of their contract (67 %), "
            + "9 of 10 reported in 7 open days (90 %); 7 meets, 1 below, 1 poor, 1 no data (still reading the stored measurements)")
        #expect(lines.contains("  measured: below, median 12.5 down / 3.1 up Mbit/s over 3 test(s), target 20 (benchmark)"), "\(lines)")
        // A school judged by its group runs says its figures are sums.
        let byRuns = SchoolStanding.judge(downloads: [175, 60], uploads: [], reportedRecently: true, target: target, profile: SchoolProfile(),
                                          settings: settings, byGroupRuns: true)
        #expect(StatusTable.standingLine(SchoolMeasurement(byRuns))
            == "measured: meets, median 117.5 down Mbit/s over 2 group run(s), each its probes' sum, target 20 (benchmark)")
        // The dashboard's front page says the same.
        let page = DashboardRenderer().overview(Self.overview(report))
        #expect(page.contains("<p class=\"kpis\">measurements: 7 of 9 measured schools meet their target (78 %)"), "\(page.prefix(3000))")
    }

    @Test func statusReportRoundTripsThroughJSON() throws {
        let report = Self.report()
        let data = try JSONEncoder().encode(report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"generated_at\":\"2026-11-23T09:30:00Z\"") && text.contains("\"state\":\"DOWN\""))
        #expect(try JSONDecoder().decode(StatusReport.self, from: data) == report)
    }
}

/// The views answer Mustache's lookups with a switch instead of `Mirror`; a field
/// added to a view but not to its switch would render as nothing.
@Suite struct DashboardViewLookupTests {
    /// The fields whose lookup gives nothing, or something other than the field's value.
    static func unanswered(_ view: some MustacheParent) -> [String] {
        Mirror(reflecting: view).children.compactMap { child in
            guard let label = child.label else { return nil }
            let answer = view.child(named: label).map { String(describing: $0) }
            return answer == String(describing: child.value) ? nil : label
        }
    }

    @Test func everyFieldOfEveryViewIsAnswered() throws {
        let report = DashboardRenderTests.report()
        let school = SchoolView(school: report.schools[0], now: DashboardRenderTests.now, size: .compact)
        let detail = ResultDetail(summary: ResultSummary(id: 1, runAt: nil, exitCode: 0, failure: nil, latenessMs: 2), probe: "p", output: "x", outputTruncated: false)
        let pageViews: [any MustacheParent] = [
            HeaderView(report: report, title: "t", refreshSeconds: 30), school, school.probes[0], school.timeline,
            school.timeline.lanes[0], school.timeline.bands[0], school.timeline.marks[0], school.timeline.ticks[0], school.timeline.legend[0],
            ResultEntryView(detail, format: DisplayFormat(timeZone: .gmt, now: 0)),
        ]
        let overview = OverviewPage(DashboardRenderTests.overview(), refreshSeconds: 30)
        let line = try #require(overview.schools.first)
        let cell = try #require(line.spark.first)
        let views: [any MustacheParent] = pageViews + [overview, line, cell]
        for view in views {
            #expect(Self.unanswered(view).isEmpty, "\(type(of: view)) does not answer \(Self.unanswered(view))")
        }
    }
}
