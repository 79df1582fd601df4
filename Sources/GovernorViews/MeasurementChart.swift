public import GovernorCore

/// One day of a school's measurements, as its chart draws it.
public struct DailyMeasurement: Sendable, Equatable {
    public var date: LocalDate
    public var open: Bool
    public var downloadMedianMbps: Double?
    public var uploadMedianMbps: Double?
    public var count: Int
    /// The medians of the day's group runs, each run its members' sum.
    public var groupDownloadMedianMbps: Double?
    public var groupUploadMedianMbps: Double?
    public var groupCount: Int

    public init(date: LocalDate, open: Bool, downloadMedianMbps: Double?, uploadMedianMbps: Double?, count: Int, groupDownloadMedianMbps: Double? = nil,
                groupUploadMedianMbps: Double? = nil, groupCount: Int = 0) {
        self.date = date
        self.open = open
        self.downloadMedianMbps = downloadMedianMbps
        self.uploadMedianMbps = uploadMedianMbps
        self.count = count
        self.groupDownloadMedianMbps = groupDownloadMedianMbps
        self.groupUploadMedianMbps = groupUploadMedianMbps
        self.groupCount = groupCount
    }
}

/// The school page's chart of daily medians: download and upload as lines of
/// points, the target as a dashed line, closed days shaded. Server-rendered SVG,
/// so that it needs no script and prints as it shows.
public enum MeasurementChart {
    /// The lines it draws: single runs' medians, and group runs' (each run the sum of
    /// its members), which show what the line carried when several probes tested it at once.
    static var series: [(className: String, label: String, value: KeyPath<DailyMeasurement, Double?>, count: KeyPath<DailyMeasurement, Int>, of: String)] {
        [("download", "download", \.downloadMedianMbps, \.count, "test(s)"),
         ("upload", "upload", \.uploadMedianMbps, \.count, "test(s)"),
         ("group-download", "group run download (summed)", \.groupDownloadMedianMbps, \.groupCount, "group run(s)"),
         ("group-upload", "group run upload (summed)", \.groupUploadMedianMbps, \.groupCount, "group run(s)")]
    }

    static let width = 720.0
    static let height = 180.0
    static let left = 44.0
    static let bottom = 20.0
    static let top = 8.0

    public static func svg(days: [DailyMeasurement], targetMbps: Double) -> String {
        guard !days.isEmpty else { return "" }
        let highest = days.map { day in series.map { day[keyPath: $0.value] ?? 0 }.max() ?? 0 }.max() ?? 0
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
        for line in series {
            let points = days.enumerated().compactMap { index, day in day[keyPath: line.value].map { "\(number(x(index))),\(number(y($0)))" } }
            guard !points.isEmpty else { continue }
            svg += "<polyline class=\"\(line.className)\" points=\"\(points.joined(separator: " "))\"/>"
            for (index, day) in days.enumerated() {
                guard let mbps = day[keyPath: line.value] else { continue }
                svg += "<circle class=\"\(line.className)\" cx=\"\(number(x(index)))\" cy=\"\(number(y(mbps)))\" r=\"2.5\"><title>\(day.date) \(line.label) median "
                    + "\(SchoolTarget.format(mbps)) Mbit/s of \(day[keyPath: line.count]) \(line.of)</title></circle>"
            }
        }
        // Which line is which, when group runs add two: named at the foot, in their colours.
        if days.contains(where: { $0.groupDownloadMedianMbps != nil || $0.groupUploadMedianMbps != nil }) {
            svg += "<text class=\"tick legend\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 4))\" text-anchor=\"middle\">"
                + series.map { "<tspan class=\"\($0.className)\">\($0.label)</tspan>" }.joined(separator: " · ") + "</text>"
        }
        if let first = days.first, let last = days.last {
            svg += "<text class=\"tick\" x=\"\(number(left))\" y=\"\(number(height - 4))\">\(first.date)</text>"
            svg += "<text class=\"tick\" x=\"\(number(width - 8))\" y=\"\(number(height - 4))\" text-anchor=\"end\">\(last.date)</text>"
        }
        return svg + "</svg>"
    }
}
