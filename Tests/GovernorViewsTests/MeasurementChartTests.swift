import GovernorCore
import Testing

@testable import GovernorViews

@Suite("The school page's chart of daily medians")
struct MeasurementChartTests {
    static func day(_ text: String, open: Bool = true, down: Double? = nil, up: Double? = nil, count: Int = 0) -> DailyMeasurement {
        DailyMeasurement(date: LocalDate(parsing: text)!, open: open, downloadMedianMbps: down, uploadMedianMbps: up, count: count)
    }

    @Test("a point per measured day, the target dashed across, closed days shaded, the scale above the highest figure")
    func chart() {
        let svg = MeasurementChart.svg(days: [
            Self.day("2026-11-30", down: 12.5, up: 3, count: 8),
            Self.day("2026-12-01", open: false),
            Self.day("2026-12-02", count: 0),
            Self.day("2026-12-03", down: 25, up: 4, count: 7),
        ], targetMbps: 20)
        #expect(svg.hasPrefix("<svg class=\"measurements\"") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<circle class=\"download\"").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle class=\"upload\"").count - 1 == 2)
        #expect(svg.components(separatedBy: "<rect class=\"closed\"").count - 1 == 1 && svg.contains("<title>2026-12-01 closed</title>"))
        #expect(svg.contains("<title>target 20 Mbit/s</title>"))
        #expect(svg.contains("<title>2026-11-30 download median 12.5 Mbit/s of 8 test(s)</title>"))
        // The scale is 10 % above the highest of the figures and the target: 27.5.
        #expect(svg.contains(">27.5</text>"))
        // 25 Mbit/s on a 27.5 scale over 152 px from y = 8: y = 8 + 152 × (1 − 25 / 27.5) = 21.8.
        #expect(svg.contains("cy=\"21.8\""))
    }

    @Test("group runs' sums are their own series beside single runs, named at the foot; without them no legend")
    func groupSeries() {
        var summed = Self.day("2026-12-03", down: 40, up: 9, count: 1)
        summed.groupDownloadMedianMbps = 175
        summed.groupUploadMedianMbps = 22
        summed.groupCount = 2
        let svg = MeasurementChart.svg(days: [Self.day("2026-12-02", down: 38, count: 1), summed], targetMbps: 100)
        #expect(svg.components(separatedBy: "<circle class=\"download\"").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle class=\"group-download\"").count - 1 == 1)
        #expect(svg.contains("<polyline class=\"group-upload\""))
        #expect(svg.contains("<title>2026-12-03 group run download (summed) median 175 Mbit/s of 2 group run(s)</title>"))
        #expect(svg.contains("<tspan class=\"group-download\">group run download (summed)</tspan>"))
        // The scale reaches above the sums: 10 % over 175.
        #expect(svg.contains(">192.5</text>"))
        #expect(!MeasurementChart.svg(days: [Self.day("2026-12-02", down: 38, count: 1)], targetMbps: 100).contains("tspan"))
    }

    @Test("no days, no chart")
    func empty() {
        #expect(MeasurementChart.svg(days: [], targetMbps: 20) == "")
    }
}
