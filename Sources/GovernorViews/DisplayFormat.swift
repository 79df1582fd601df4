public import GovernorWire
public import Foundation
public import GovernorCore

/// How the operator's views write times, durations and results: local wall-clock
/// times in the school's zone, the date only when it is not today.
public struct DisplayFormat: Sendable {
    public let timeZone: TimeZone
    public let now: UnixTime

    public init(timeZone: TimeZone, now: UnixTime) {
        self.timeZone = timeZone
        self.now = now
    }

    /// "14:05:09", or "Nov 22 14:05:09" on another local date.
    public func time(_ instant: UnixTime) -> String {
        let clock = SchoolClock.timeOfDay(of: instant, in: timeZone).clockText
        let date = LocalDate(containing: instant, in: timeZone)
        guard date != LocalDate(containing: now, in: timeZone) else { return clock }
        return "\(Self.monthNames[date.month - 1]) \(date.day) \(clock)"
    }

    /// "3 min ago", "in 2 h 5 min".
    public func relative(_ instant: UnixTime) -> String {
        let seconds = instant - now
        if seconds == 0 { return "now" }
        return seconds < 0 ? "\(Self.duration(-seconds)) ago" : "in \(Self.duration(seconds))"
    }

    /// "45 s", "12 min", "2 h 5 min", "3 d 4 h".
    public static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(max(seconds, 0)) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<86_400: seconds % 3600 / 60 == 0 ? "\(seconds / 3600) h" : "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: seconds % 86_400 / 3600 == 0 ? "\(seconds / 86_400) d" : "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
        }
    }

    /// "+1.2 ms", "−340 ms", "+2.1 s".
    public static func offset(milliseconds: Double) -> String {
        let sign = milliseconds < 0 ? "−" : "+"
        let magnitude = abs(milliseconds)
        if magnitude >= 1000 { return sign + String(format: "%.1f s", magnitude / 1000) }
        return sign + (magnitude < 10 ? String(format: "%.1f ms", magnitude) : String(format: "%.0f ms", magnitude))
    }

    /// "exit 0", "exit 3", or the failure's first words ("connect: refused …").
    public static func outcome(of result: ResultSummary) -> String {
        if let failure = result.failure { return failure.count > 48 ? String(failure.prefix(47)) + "…" : failure }
        if let code = result.exitCode { return "exit \(code)" }
        return "no exit status"
    }

    /// How late a test started, each figure named for what it measures:
    /// "+12 ms late, probe's own +0.4 ms". The first is `started_at` minus the run
    /// time (a wrong probe clock shows in it); the second is the probe's own spawn
    /// lateness on its own clock. Nil when neither is known.
    public static func lateness(of result: ResultSummary) -> String? {
        var parts: [String] = []
        if let late = result.latenessMs { parts.append("\(late >= 0 ? "+" : "")\(late) ms late") }
        if let own = result.startLatenessMs, own.isFinite {
            parts.append("probe's own \(own >= 0 ? "+" : "")\(String(format: "%.1f", own)) ms")
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
