public import Foundation

/// Whole seconds since 1970-01-01 00:00 UTC. Schedules use whole seconds throughout.
public typealias UnixTime = Int64

/// Turns a school's local dates and times of day into instants, and so its
/// boundaries into windows, with daylight-saving days handled by the calendar.
public enum SchoolClock {
    /// The instant at which `time` occurs on `date` in `timeZone`.
    ///
    /// A time that does not exist that day (skipped by a spring-forward change)
    /// moves to the first instant after the gap; a time that occurs twice (repeated
    /// by a fall-back change) is its first occurrence.
    /// The wall-clock time of an instant in a zone.
    public static func timeOfDay(of instant: UnixTime, in timeZone: TimeZone) -> TimeOfDay {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
        return TimeOfDay(secondsSinceMidnight: Int(((instant + offset) % 86_400 + 86_400) % 86_400))!
    }

    public static func instant(of time: TimeOfDay, on date: LocalDate, in timeZone: TimeZone) -> UnixTime {
        let wall = Int64(date.daysSinceEpoch) * 86_400 + Int64(time.secondsSinceMidnight)
        func offset(_ instant: Int64) -> Int64 {
            Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
        }
        // The offsets in force a day either side cover every transition near `wall`
        // (zones change offset at most once in any two days). When they agree, no
        // change is near and the answer is direct: the common case, two look-ups.
        let before = offset(wall - 86_400)
        if before == offset(wall + 86_400) { return wall - before }
        let offsets = Set([before, offset(wall), offset(wall + 86_400)])
        let candidates = offsets.map { wall - $0 }.filter { offset($0) == wall - $0 }
        if let first = candidates.min() { return first }

        // In a gap: the wall time read with the offset before the change lies after
        // the change, read with the offset after it lies before; the change is between.
        var low = offsets.map { wall - $0 }.min()!
        var high = offsets.map { wall - $0 }.max()!
        let offsetBefore = offset(low)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle) == offsetBefore { low = middle } else { high = middle }
        }
        return high
    }

    /// The windows of `timing` that start on `date`, in time order: between
    /// consecutive boundaries, plus the overnight window to the next day's first one.
    public static func windows(of timing: Timing, on date: LocalDate, in timeZone: TimeZone) -> [WindowBounds] {
        let boundaries = timing.boundaries
        guard let first = boundaries.first else { return [] }
        var starts = boundaries.map { instant(of: $0, on: date, in: timeZone) }
        var ends = Array(starts.dropFirst())
        if timing.overnight {
            ends.append(instant(of: first, on: date.adding(days: 1), in: timeZone))
        } else {
            starts.removeLast()
        }
        return zip(zip(boundaries, starts), ends).map { boundaryAndStart, end in
            WindowBounds(start: boundaryAndStart.1, end: end, localDate: date, startBoundary: boundaryAndStart.0)
        }
    }
}

extension SchoolClock {
    /// The school's windows that end after `instant`, in time order: the one holding
    /// `instant` (if any) first. Looks at most `days` local dates ahead.
    public static func windows(of timing: Timing, endingAfter instant: UnixTime, in timeZone: TimeZone, days: Int = 3) -> [WindowBounds] {
        // The overnight window of the previous local date may still be open.
        let first = LocalDate(containing: instant, in: timeZone).adding(days: -1)
        return (0...days).flatMap { windows(of: timing, on: first.adding(days: $0), in: timeZone) }
            .filter { $0.end > instant }
    }
}

/// One test window of a school on one local date: `[start, end)`.
public struct WindowBounds: Sendable, Hashable, Codable {
    public var start: UnixTime
    public var end: UnixTime
    /// The local date the window starts on.
    public var localDate: LocalDate
    /// The boundary the window starts at.
    public var startBoundary: TimeOfDay

    public init(start: UnixTime, end: UnixTime, localDate: LocalDate, startBoundary: TimeOfDay) {
        self.start = start
        self.end = end
        self.localDate = localDate
        self.startBoundary = startBoundary
    }

    public var seconds: Int64 { end - start }
}
