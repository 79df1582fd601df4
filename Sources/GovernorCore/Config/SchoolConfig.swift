public import Foundation

/// One school: its probes share one uplink, so no two of its tests may overlap.
public struct SchoolConfig: Sendable, Equatable {
    /// Unique among the loaded schools; the name probes and operators see.
    public var name: String
    /// The file it was loaded from.
    public var file: String
    public var timeZone: TimeZone
    /// The zone's name as the operator wrote it (Foundation reports `UTC` as `GMT`).
    public var timeZoneName: String
    /// Extra alert recipients for this school.
    public var alertTo: [String]
    public var timing: Timing
    /// In the order they are listed: pull ids first, then push addresses.
    public var probes: [ProbeConfig]
    /// The days it is open (`open_days`, `closed`, `calendar`).
    public var calendar: SchoolCalendar
    /// How its tests' output is read (`result_format`, the governor's unless the school sets it).
    public var resultFormat: ResultFormat
    /// Its contract and enrolment (`contracted_download_mbps`, `contracted_upload_mbps`, `students`).
    public var profile: SchoolProfile
    /// Its labels (`labels`, over the governor's defaults): what alerts and incidents group by.
    public var labels: SchoolLabels
    /// Its `[Group NAME]` sections: probes that share every run time.
    public var groups: [ProbeGroup]

    public init(name: String, file: String, timeZone: TimeZone, timeZoneName: String? = nil, alertTo: [String] = [], timing: Timing, probes: [ProbeConfig],
                calendar: SchoolCalendar = .always, resultFormat: ResultFormat = .auto, profile: SchoolProfile = SchoolProfile(),
                labels: SchoolLabels = SchoolLabels(), groups: [ProbeGroup] = []) {
        self.labels = labels
        self.groups = groups
        self.calendar = calendar
        self.profile = profile
        self.resultFormat = resultFormat
        self.name = name
        self.file = file
        self.timeZone = timeZone
        self.timeZoneName = timeZoneName ?? timeZone.identifier
        self.alertTo = alertTo
        self.timing = timing
        self.probes = probes
    }

    /// The download it should get, as ``SchoolTarget`` derives it from its profile and `settings`.
    public func target(_ settings: MeasurementSettings) -> SchoolTarget {
        SchoolTarget(profile: profile, settings: settings)
    }

    /// The windows that start on `date`: none when the school is closed that day.
    public func windows(on date: LocalDate) -> [WindowBounds] {
        calendar.isOpen(on: date) ? SchoolClock.windows(of: timing, on: date, in: timeZone).filter(holdsTests) : []
    }

    /// Whether `bounds` is long enough for the school's tests.
    ///
    /// Every nominal window is (the configuration is checked for it), but a
    /// daylight-saving change can shorten one: a boundary in the skipped hour moves to
    /// the first instant after it, so a window between two boundaries in or around the
    /// gap may be left with less time than its tests need, or none. Such a window is
    /// skipped that day, by the server and the dry run alike; the day keeps its other
    /// windows, and `governor check` warns of the days ahead (``DaylightSavingCheck``).
    public func holdsTests(_ bounds: WindowBounds) -> Bool {
        bounds.seconds >= Int64(slotsPerWindow) * Int64(timing.slotSeconds)
    }

    /// The windows that end after `instant`, in time order, from the open dates among
    /// the day before `instant`'s and the `days` after it.
    public func windows(endingAfter instant: UnixTime, days: Int) -> [WindowBounds] {
        SchoolClock.windows(of: timing, endingAfter: instant, in: timeZone, days: days).filter { calendar.isOpen(on: $0.localDate) && holdsTests($0) }
    }

    /// Like ``windows(endingAfter:days:)``, but counting only open dates, so that a
    /// probe asking during a closure learns its first run after it. Looks through at
    /// most ``longestClosureDays`` dates.
    public func windows(endingAfter instant: UnixTime, openDays days: Int) -> [WindowBounds] {
        var windows: [WindowBounds] = []
        var date = LocalDate(containing: instant, in: timeZone).adding(days: -1)
        var open = 0
        for _ in 0..<Self.longestClosureDays where open <= days {
            if calendar.isOpen(on: date) {
                open += 1
                windows += SchoolClock.windows(of: timing, on: date, in: timeZone).filter { $0.end > instant && holdsTests($0) }
            }
            date = date.adding(days: 1)
        }
        return windows
    }

    /// How far a probe's request looks for the end of a closure: a year.
    public static let longestClosureDays = 400

    /// Tests in each window: every probe runs `runsPerPeriod` times (a group's probes
    /// each count, though they share their slots: ``slotsPerWindow``).
    public var testsPerWindow: Int { probes.count * timing.runsPerPeriod }

    /// The fields a schedule depends on, in a fixed textual form. A seeded schedule
    /// is a function of this, so that editing a label leaves times alone but
    /// changing the timing or the probes draws new ones.
    public var scheduleFingerprint: String {
        let boundaries = timing.boundaries.map { String($0.secondsSinceMidnight) }.joined(separator: ",")
        let probeNames = probes.map(\.name).joined(separator: ",")
        // Only a school with groups says so, so that the others keep their seeded schedules.
        let groupText = groups.isEmpty ? "" : ";g=" + groups.map { "\($0.name):\($0.probes.joined(separator: "+"))" }.joined(separator: ",")
        return "tz=\(timeZoneName);b=\(boundaries);r=\(timing.runsPerPeriod);d=\(timing.delaySeconds);t=\(timing.testDurationSeconds);o=\(timing.overnight);p=\(probeNames)"
            + groupText
    }
}

/// A school's `[Timing]`.
public struct Timing: Sendable, Hashable, Codable {
    /// Strictly increasing times of day.
    public var boundaries: [TimeOfDay]
    /// Runs per probe per window.
    public var runsPerPeriod: Int
    /// Minimum pause between the end of one test and the start of the next.
    public var delaySeconds: Int
    public var testDurationSeconds: Int
    /// Whether the window from the last boundary to the next day's first runs tests.
    public var overnight: Bool

    public init(boundaries: [TimeOfDay], runsPerPeriod: Int, delaySeconds: Int, testDurationSeconds: Int, overnight: Bool = true) {
        self.boundaries = boundaries
        self.runsPerPeriod = runsPerPeriod
        self.delaySeconds = delaySeconds
        self.testDurationSeconds = testDurationSeconds
        self.overnight = overnight
    }

    /// The time one test reserves: the test itself and the pause after it.
    public var slotSeconds: Int { testDurationSeconds + delaySeconds }

    /// The windows of a day without a daylight-saving change, as (start, length).
    public var nominalWindows: [(start: TimeOfDay, seconds: Int)] {
        var windows = zip(boundaries, boundaries.dropFirst()).map { ($0, $1.secondsSinceMidnight - $0.secondsSinceMidnight) }
        if overnight, let first = boundaries.first, let last = boundaries.last {
            windows.append((last, 86_400 - last.secondsSinceMidnight + first.secondsSinceMidnight))
        }
        return windows
    }
}

/// A probe of a school.
public struct ProbeConfig: Sendable, Hashable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Asks the governor over HTTP for its next run time (`[Probes] ids`).
        case pull
        /// Is dispatched over SSH by the governor (`[Probes] addresses`).
        case push
    }

    /// The id (pull) or the address as written (push); unique across all schools.
    public var name: String
    public var mode: Mode
    /// Where a push probe is reached.
    public var address: ProbeAddress?
    /// The line in `[Probes]` that lists the probe.
    public var line: Int
    /// Keys of the probe's `[Probe NAME]` section, if it has one.
    public var settings: [String: String]

    public init(name: String, mode: Mode, address: ProbeAddress? = nil, line: Int, settings: [String: String] = [:]) {
        self.name = name
        self.mode = mode
        self.address = address
        self.line = line
        self.settings = settings
    }

    public var label: String? { settings["label"] }
    public var token: String? { settings["token"] }
    public var tokenSHA256: String? { settings["token_sha256"] }

    /// Keys a `[Probe NAME]` section may hold.
    public static let settingKeys = [
        "token", "token_sha256", "label", "user", "port", "command", "identity",
        "identity_passphrase_file", "known_hosts", "host_key_check", "timeout", "connect_timeout",
    ]

    /// The pull-probe id alphabet, as the error messages and docs state it.
    public static let idRule = "1 to 64 letters, digits, '.', '_' or '-', and start with a letter or digit"

    /// Pull-probe ids: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
    ///
    /// Ids stand in URL paths (`/v1/probes/{id}/next`), in file names and in email
    /// subjects, so they start with a letter or digit: `.`, `..` and `-` (a path
    /// segment that means something else, an option to a command) are never ids.
    public static func isValidID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.first.map(isAlphanumeric) == true
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
