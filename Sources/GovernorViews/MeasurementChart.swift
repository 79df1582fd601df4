public import GovernorCore

/// One day of a school's measurements, as its chart draws it.
public struct DailyMeasurement: Sendable, Equatable {
    public var date: LocalDate
    public var open: Bool
    public var downloadMedianMbps: Double?
    public var uploadMedianMbps: Double?
    public var count: Int

    public init(date: LocalDate, open: Bool, downloadMedianMbps: Double?, uploadMedianMbps: Double?, count: Int) {
        self.date = date
        self.open = open
        self.downloadMedianMbps = downloadMedianMbps
        self.uploadMedianMbps = uploadMedianMbps
        self.count = count
    }
}

/// The school page's chart of daily medians: download and upload as lines of
/// points, the target as a dashed line, closed days shaded. Server-rendered SVG,
/// so that it needs no script and prints as it shows.
public enum MeasurementChart {
    static let width = 720.0
    static let height = 180.0
    static let left = 44.0
    static let bottom = 20.0
    static let top = 8.0

    public static func svg(days: [DailyMeasurement], targetMbps: Double) -> String {
        guard !days.isEmpty else { return "" }
        let highest = days.compactMap { max($0.downloadMedianMbps ?? 0, $0.uploadMedianMbps ?? 0) }.max() ?? 0
        let scale = max(highest, targetMbps) * 1.1
        let plotWidth = width - left - 8
        let plotHeight = height - top - bottom
        let step = plotWidth / Double(days.count)
        func x(_ index: Int) -> Double { left + step * (Double(index) + 0.5) }
        func y(_ mbps: Double) -> Double { top + plotHeight * (1 - min(max(mbps / scale, 0), 1)) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        var svg = "<svg class=\"measurements\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" "
            + "aria-label=\"daily median download and upload against the target of \(SchoolTarget.format(targetMbps)) Mbit/s\">"
        for (index, day) in days.enumerated() where !day.open {
            svg += "<rect class=\"closed\" x=\"\(number(left + step * Double(index)))\" y=\"\(number(top))\" width=\"\(number(step))\" height=\"\(number(plotHeight))\">"
                + "<title>\(day.date) closed</title></rect>"
        }
        svg += "<line class=\"axis\" x1=\"\(number(left))\" y1=\"\(number(top + plotHeight))\" x2=\"\(number(width - 8))\" y2=\"\(number(top + plotHeight))\"/>"
        svg += "<text class=\"tick\" x=\"\(number(left - 4))\" y=\"\(number(top + 8))\" text-anchor=\"end\">\(SchoolTarget.format((scale * 10).rounded() / 10))</text>"
        svg += "<text class=\"tick\" x=\"\(number(left - 4))\" y=\"\(number(top + plotHeight))\" text-anchor=\"end\">0</text>"
        svg += "<line class=\"target\" x1=\"\(number(left))\" y1=\"\(number(y(targetMbps)))\" x2=\"\(number(width - 8))\" y2=\"\(number(y(targetMbps)))\">"
            + "<title>target \(SchoolTarget.format(targetMbps)) Mbit/s</title></line>"
        for (series, value) in [("download", \DailyMeasurement.downloadMedianMbps), ("upload", \DailyMeasurement.uploadMedianMbps)] {
            let points = days.enumerated().compactMap { index, day in day[keyPath: value].map { "\(number(x(index))),\(number(y($0)))" } }
            guard !points.isEmpty else { continue }
            svg += "<polyline class=\"\(series)\" points=\"\(points.joined(separator: " "))\"/>"
            for (index, day) in days.enumerated() {
                guard let mbps = day[keyPath: value] else { continue }
                svg += "<circle class=\"\(series)\" cx=\"\(number(x(index)))\" cy=\"\(number(y(mbps)))\" r=\"2.5\"><title>\(day.date) \(series) median "
                    + "\(SchoolTarget.format(mbps)) Mbit/s of \(day.count) test(s)</title></circle>"
            }
        }
        if let first = days.first, let last = days.last {
            svg += "<text class=\"tick\" x=\"\(number(left))\" y=\"\(number(height - 4))\">\(first.date)</text>"
            svg += "<text class=\"tick\" x=\"\(number(width - 8))\" y=\"\(number(height - 4))\" text-anchor=\"end\">\(last.date)</text>"
        }
        return svg + "</svg>"
    }
}
