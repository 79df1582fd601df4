public import GovernorWire
import Foundation
import GovernorCore
import Mustache

/// Renders the dashboard's pages from a ``StatusReport``.
///
/// The templates are parsed once, when the renderer is made; a template that does not
/// parse is a programming error caught by the render tests, so it stops the process.
public struct DashboardRenderer: Sendable {
    private let library: MustacheLibrary
    /// How often the page reloads itself, in seconds.
    public var refreshSeconds: Int

    public init(refreshSeconds: Int = 30) {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("the dashboard template '\(name)' does not parse: \(error)")
            }
        }
        self.library = library
        self.refreshSeconds = refreshSeconds
    }

    /// `/`: the counts, what needs attention, then a page of schools, a line each.
    public func overview(_ overview: FleetOverview) -> String {
        render("overview", OverviewPage(overview, refreshSeconds: refreshSeconds))
    }

    /// `/schools/{name}`: one school, larger, with its latest results' output.
    public func school(_ school: SchoolStatus, of report: StatusReport, results: [ResultDetail], days: [DailyMeasurement] = []) -> String {
        let now = report.generatedAt.unixTime
        let format = DisplayFormat(timeZone: TimeZone(identifier: school.timezone) ?? .gmt, now: now)
        let chart = school.measurement.map { MeasurementChart.svg(days: days, targetMbps: $0.targetDownloadMbps) } ?? ""
        return render("school", SchoolPage(
            header: HeaderView(report: report, title: "school \(school.name)", refreshSeconds: refreshSeconds),
            school: SchoolView(school: school, now: now, size: .large),
            results: results.map { ResultEntryView($0, format: format) },
            chart: chart, hasChart: !chart.isEmpty,
            standing: school.measurement.map(StatusTable.standingLine) ?? ""))
    }

    /// `/schools/{name}` for a name no school has.
    public func schoolNotFound(_ name: String, of report: StatusReport, schools: [String]) -> String {
        render("notFound", NotFoundPage(
            header: HeaderView(report: report, title: "no such school", refreshSeconds: refreshSeconds),
            name: name, schools: schools.map { SchoolLink(name: $0, href: SchoolView.href(of: $0)) }))
    }

    private func render(_ template: String, _ page: Any) -> String {
        guard let html = library.render(page, withTemplate: template) else {
            preconditionFailure("the dashboard template '\(template)' is not registered")
        }
        return html
    }
}

struct SchoolPage {
    var header: HeaderView
    var school: SchoolView
    var results: [ResultEntryView]
    /// The chart of daily medians, as SVG made here (every text in it is a date or a number).
    var chart: String
    var hasChart: Bool
    var standing: String
}

struct NotFoundPage {
    var header: HeaderView
    var name: String
    var schools: [SchoolLink]
}

struct SchoolLink {
    var name: String
    var href: String
}
