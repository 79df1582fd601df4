import Foundation

/// Checks across a school or across schools: windows long enough for their tests, each probe and school name used once.
extension ConfigLoader {
    /// Refuses a window that cannot hold all of its tests without overlap.
    static func feasibilityProblems(of school: SchoolConfig, line: Int?) -> [ConfigProblem] {
        school.timing.nominalWindows.compactMap { window in
            let needed = school.slotsPerWindow * school.timing.slotSeconds
            guard needed > window.seconds else { return nil }
            let end = TimeOfDay(secondsSinceMidnight: (window.start.secondsSinceMidnight + window.seconds) % 86_400)!
            return .error(school.file, line: line, Feasibility.message(
                school: school.name, window: "\(window.start)–\(end)", school, needed: needed, available: window.seconds))
        }
    }

    /// Whether the fleet's tests can fit under `[Governor] max_concurrent_tests`: for
    /// every span from a window's start to a window's end (on the schools' dates of
    /// `instant`), the tests of the windows inside it need no more test-seconds than
    /// the cap gives in it. A necessary condition: generation may still, rarely,
    /// find a window without room, and says so then.
    /// - Returns: the error naming the busiest span, its need and what the cap gives.
    static func capProblem(of schools: [SchoolConfig], governor: GovernorSettings, file: String, at instant: UnixTime) -> ConfigProblem? {
        guard let cap = governor.maxConcurrentTests else { return nil }
        struct Span: Hashable { var start: UnixTime; var end: UnixTime }
        var need: [Span: (seconds: Int, tests: Int)] = [:]
        for school in schools where school.testsPerWindow > 0 {
            let date = LocalDate(containing: instant, in: school.timeZone)
            for window in SchoolClock.windows(of: school.timing, on: date, in: school.timeZone) {
                let seconds = school.testsPerWindow.multipliedReportingOverflow(by: school.timing.testDurationSeconds).partialValue
                need[Span(start: window.start, end: window.end), default: (0, 0)].seconds += seconds
                need[Span(start: window.start, end: window.end), default: (0, 0)].tests += school.testsPerWindow
            }
        }
        let spans = need.keys.sorted { ($0.end, $0.start) < ($1.end, $1.start) }
        for from in Set(spans.map(\.start)).sorted() {
            var seconds = 0, tests = 0
            for span in spans where span.start >= from {
                seconds += need[span]!.seconds
                tests += need[span]!.tests
                let available = cap.multipliedReportingOverflow(by: Int(span.end - from)).partialValue
                guard seconds > available else { continue }
                let least = (seconds + Int(span.end - from) - 1) / Int(span.end - from)
                return .error(file, line: governor.maxConcurrentTestsLine,
                    "max_concurrent_tests = \(cap) cannot be met: the windows within \(RFC3339.format(from)) to \(RFC3339.format(span.end)) hold "
                    + "\(tests) test(s) of \(seconds) test-seconds in all, but \(cap) test(s) at a time give \(available) test-seconds there; "
                    + "raise max_concurrent_tests to at least \(least), or spread the schools' boundaries")
            }
        }
        return nil
    }

    /// Probe names and push hosts must be unique across schools; a later school that
    /// reuses one (or a school name) is refused, naming both files.
    static func rejectClashes(_ schools: [SchoolConfig]) -> ([SchoolConfig], [ConfigProblem]) {
        var owners: [String: (school: SchoolConfig, probe: ProbeConfig)] = [:]
        var names: [String: SchoolConfig] = [:]
        var kept: [SchoolConfig] = []
        var problems: [ConfigProblem] = []
        for school in schools {
            var clashes: [ConfigProblem] = []
            if let other = names[school.name] {
                clashes.append(.error(school.file, "school name '\(school.name)' is already used by \(other.file); give each school its own name"))
            }
            for probe in school.probes {
                if let other = owners[identity(of: probe)] {
                    clashes.append(.error(school.file, line: probe.line,
                        "probe '\(probe.name)' is already configured in \(other.school.file):\(other.probe.line) (school '\(other.school.name)'); a probe belongs to one school"))
                }
            }
            if clashes.isEmpty {
                kept.append(school)
                names[school.name] = school
                for probe in school.probes { owners[identity(of: probe)] = (school, probe) }
            } else {
                problems += clashes
            }
        }
        return (kept, problems)
    }

    /// What makes two probes the same: the id, or the host and port of an address.
    static func identity(of probe: ProbeConfig) -> String {
        guard let address = probe.address else { return "id:\(probe.name)" }
        return "host:\(address.host.lowercased()):\(address.port.map(String.init) ?? "default")"
    }

    static func unknownSection(_ section: INIDocument.Section, in file: String, known: [String]) -> ConfigProblem {
        var message = "unknown section [\(section.name)] is ignored"
        if let match = (known + ["Probe NAME", "Group NAME"]).first(where: { $0.lowercased() == section.name.lowercased() }) {
            message += "; section names are case-sensitive: did you mean [\(match)]?"
        } else if section.name.lowercased().hasPrefix("group ") {
            message += "; section names are case-sensitive: did you mean [Group \(section.name.dropFirst(6))]?"
        } else {
            message += " (known sections: \(known.map { "[\($0)]" }.joined(separator: ", ")), [Probe NAME], [Group NAME])"
        }
        return .warning(file, line: section.line, message)
    }
}

/// The wording of the "window too short" error, shared by load-time checks and by
/// generation on days whose windows a daylight-saving change shortens.
enum Feasibility {
    static func message(school name: String, window: String, _ school: SchoolConfig, needed: Int, available: Int) -> String {
        let timing = school.timing
        let who = school.groups.isEmpty ? "\(school.probes.count) probe(s)"
            : "\(school.units.count) probe(s) and group(s) (a group's probes share their slots)"
        return "school '\(name)': window \(window) is too short: \(who) × \(timing.runsPerPeriod) run(s) × "
            + "(\(DurationValue.format(timing.testDurationSeconds)) test + \(DurationValue.format(timing.delaySeconds)) delay) "
            + "need \(needed) s (\(DurationValue.format(needed))) but the window has \(available) s (\(DurationValue.format(available))); "
            + "lower runs_per_period or delay, or widen the window"
    }
}
