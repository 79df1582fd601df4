public import GovernorWire
public import Foundation
public import GovernorCore

/// The geometry of a school's timeline: where each window, run and hour falls on
/// the SVG's x axis, and which lane each probe's marks sit in.
///
/// The axis spans the hours around the day's windows (and now, when it falls on the
/// date), not the whole day, so that a school's few hours of tests fill the width.
/// Hours are the school's local hours, so a DST day has one more or one fewer.
public struct TimelineLayout: Sendable, Equatable {
    public struct Size: Sendable, Equatable {
        public var width: Double
        public var laneHeight: Double
        /// Room for the probe names on the left.
        public var labelWidth: Double

        public init(width: Double, laneHeight: Double, labelWidth: Double) {
            self.width = width
            self.laneHeight = laneHeight
            self.labelWidth = labelWidth
        }

        public static let compact = Size(width: 960, laneHeight: 22, labelWidth: 120)
        public static let large = Size(width: 1200, laneHeight: 40, labelWidth: 150)
    }

    public struct Mark: Sendable, Equatable {
        public var run: TimelineDay.Run
        public var x: Double
        public var y: Double
    }

    public struct BandBox: Sendable, Equatable {
        public var band: TimelineDay.Band
        public var x: Double
        public var width: Double
    }

    public struct Tick: Sendable, Equatable {
        public var instant: UnixTime
        public var x: Double
        /// "08:00" in the school's zone.
        public var label: String
        /// Whether the label is drawn: on a long axis only every second, third… hour
        /// is, so that the labels do not run into each other.
        public var labeled: Bool
    }

    public let size: Size
    /// The instants at the left and right edges of the plot area.
    public let axisStart: UnixTime
    public let axisEnd: UnixTime
    public let lanes: [String]
    public let bands: [BandBox]
    public let marks: [Mark]
    public let ticks: [Tick]
    /// Where the "now" line goes; nil when now is not on this date.
    public let nowX: Double?
    public let axisY: Double
    public let height: Double

    static let topPadding = 6.0
    static let axisHeight = 22.0
    static let rightPadding = 24.0
    /// The least room, in SVG units, between two hour labels.
    static let labelSpacing = 48.0

    public init(day: TimelineDay, probes: [String], now: UnixTime, timeZone: TimeZone, size: Size = .compact) {
        self.size = size
        var lanes = probes
        for run in day.runs where !lanes.contains(run.probe) { lanes.append(run.probe) }
        self.lanes = lanes

        let (start, end) = Self.axisSpan(day: day, now: now, timeZone: timeZone)
        axisStart = start
        axisEnd = end
        let plotLeft = size.labelWidth
        let plotWidth = size.width - size.labelWidth - Self.rightPadding
        func x(_ instant: UnixTime) -> Double {
            let fraction = Double(instant - start) / Double(max(end - start, 1))
            return (plotLeft + fraction * plotWidth).roundedToTenth
        }
        let laneCount = Double(max(lanes.count, 1))
        axisY = Self.topPadding + laneCount * size.laneHeight
        height = axisY + Self.axisHeight

        bands = day.windows.map { band in
            let left = x(max(band.start.unixTime, start)), right = x(min(band.end.unixTime, end))
            return BandBox(band: band, x: left, width: max(right - left, 1))
        }
        marks = day.runs.map { run in
            let lane = Double(lanes.firstIndex(of: run.probe) ?? 0)
            return Mark(run: run, x: x(run.runAt.unixTime), y: (Self.topPadding + (lane + 0.5) * size.laneHeight).roundedToTenth)
        }
        let hours = Self.hourInstants(of: day.date, in: timeZone, from: start, through: end)
        let hourWidth = plotWidth / max(Double(end - start) / 3600, 1)
        let step = [1, 2, 3, 4, 6, 12].first { Double($0) * hourWidth >= Self.labelSpacing } ?? 12
        ticks = hours.map { instant, hour in
            Tick(instant: instant, x: x(instant), label: hour < 10 ? "0\(hour):00" : "\(hour):00", labeled: hour % step == 0)
        }
        nowX = (day.start.unixTime..<day.end.unixTime).contains(now) && (start...end).contains(now) ? x(now) : nil
    }

    /// Whole local hours around the windows and now, within the date.
    static func axisSpan(day: TimelineDay, now: UnixTime, timeZone: TimeZone) -> (UnixTime, UnixTime) {
        let dayStart = day.start.unixTime, dayEnd = day.end.unixTime
        var instants = day.windows.flatMap { [$0.start.unixTime, $0.end.unixTime] } + day.runs.map(\.runAt.unixTime)
        if (dayStart..<dayEnd).contains(now) { instants.append(now) }
        guard let first = instants.min(), let last = instants.max(), first < last else { return (dayStart, dayEnd) }
        let hours = hourInstants(of: day.date, in: timeZone, from: dayStart, through: dayEnd).map(\.0)
        let start = hours.last { $0 <= first } ?? dayStart
        let end = hours.first { $0 >= last } ?? dayEnd
        return (max(start, dayStart), min(end, dayEnd))
    }

    /// The instants at which local hours begin on `date`, with the hour, between two instants.
    static func hourInstants(of date: LocalDate, in timeZone: TimeZone, from start: UnixTime, through end: UnixTime) -> [(UnixTime, Int)] {
        var result: [(UnixTime, Int)] = []
        for hour in 0...24 {
            let instant: UnixTime
            if hour == 24 {
                instant = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: 0)!, on: date.adding(days: 1), in: timeZone)
            } else {
                instant = SchoolClock.instant(of: TimeOfDay(secondsSinceMidnight: hour * 3600)!, on: date, in: timeZone)
                // A local hour that does not exist (spring forward) maps onto its neighbour.
                guard LocalDate(containing: instant, in: timeZone) == date, SchoolClock.timeOfDay(of: instant, in: timeZone).hour == hour else { continue }
            }
            guard instant >= start, instant <= end, !result.contains(where: { $0.0 == instant }) else { continue }
            result.append((instant, hour % 24))
        }
        return result
    }
}

extension Double {
    /// One decimal is plenty for SVG coordinates and keeps the markup short and stable.
    var roundedToTenth: Double { (self * 10).rounded() / 10 }
}
