import Foundation

/// A school file's `[School]` and `[Timing]`.
extension ConfigLoader {
    static let schoolKeys = ["name", "timezone", "alert_to", "result_format", "contracted_download_mbps", "contracted_upload_mbps", "students", "labels"] + calendarKeys
    static let timingKeys = ["boundaries", "runs_per_period", "delay", "test_duration", "overnight"]

    /// Reads the school held by `document`; sections named in `ignoring` belong to the governor.
    static func readSchool(_ document: INIDocument, governor: GovernorSettings, ignoring: Set<String>) -> (SchoolConfig?, [ConfigProblem]) {
        let file = document.file
        var problems: [ConfigProblem] = []
        if ignoring.isEmpty {
            let known = ["School", "Timing", "Probes"]
            for section in document.sections
            where !known.contains(section.name) && !section.name.hasPrefix(probeSectionPrefix) && !section.name.hasPrefix(groupSectionPrefix) {
                problems.append(unknownSection(section, in: file, known: known))
            }
        }

        var name = ConfigPaths.stem(of: file)
        var timeZone = governor.timeZone
        var timeZoneName = governor.timeZoneName
        var alertTo: [String] = []
        var calendar = SchoolCalendar.always
        var resultFormat = governor.resultFormat
        var profile = SchoolProfile()
        var labels = governor.labels
        if let section = document.section("School") {
            var reader = SectionReader(section, in: document, knownKeys: schoolKeys)
            if let given = reader.singleLine("name") { name = given }
            if let zone = reader.timeZone("timezone") {
                timeZone = zone.zone
                timeZoneName = zone.name
            }
            for piece in reader.list("alert_to") {
                if isPlausibleEmail(piece.text) {
                    alertTo.append(piece.text)
                } else {
                    reader.error("'\(piece.text)' in alert_to is not an email address", line: piece.line)
                }
            }
            calendar = readCalendar(&reader)
            if let format = reader.choice("result_format", of: ResultFormat.self) { resultFormat = format }
            profile.contractedDownloadMbps = reader.decimal("contracted_download_mbps", in: ConfigLimits.mbps)
            profile.contractedUploadMbps = reader.decimal("contracted_upload_mbps", in: ConfigLimits.mbps)
            profile.students = reader.integer("students", in: ConfigLimits.students)
            labels = readLabels(&reader).over(governor.labels)
            problems += reader.problems
        }

        let timing = readTiming(document, governor: governor, problems: &problems)
        var probes = readProbes(document, problems: &problems)
        applyProbeSections(document, to: &probes, problems: &problems)
        let groups = readGroups(document, probes: probes, problems: &problems)
        if governor.requireTokens {
            for probe in probes where probe.mode == .pull && probe.token == nil && probe.tokenSHA256 == nil {
                problems.append(.error(file, line: probe.line,
                    "pull probe '\(probe.name)' has no token: add a [Probe \(probe.name)] section with the token_sha256 line "
                    + "that 'governor token \(probe.name)' prints (or set 'require_tokens = no' in [Governor])"))
            }
        }

        guard let timing, !problems.containsError else { return (nil, problems) }
        let school = SchoolConfig(name: name, file: file, timeZone: timeZone, timeZoneName: timeZoneName, alertTo: alertTo, timing: timing, probes: probes,
                                  calendar: calendar, resultFormat: resultFormat, profile: profile, labels: labels, groups: groups)
        problems += feasibilityProblems(of: school, line: document.section("Timing")?["boundaries"]?.line)
        if let budget = governor.dailyTestsPerEgress {
            let windows = school.timing.nominalWindows.count
            let tests = windows * school.testsPerWindow
            if tests > budget {
                // A school's probes share its uplink, and nearly always one NAT address.
                problems.append(.warning(file, line: document.section("Timing")?["runs_per_period"]?.line,
                    "school '\(school.name)' runs \(tests) tests a day (\(school.probes.count) probe(s) × \(windows) window(s) × "
                    + "\(school.timing.runsPerPeriod) run(s)), from what is likely one egress address: above daily_tests_per_egress = \(budget) "
                    + "(M-Lab asks automated clients for at most 4 tests a day per address)"))
            }
        }
        // A push probe that cannot be dispatched still gets its schedule (the original's
        // files have no [SSH]); each of its runs is recorded as failed, with this reason.
        for probe in probes where probe.mode == .push {
            do {
                _ = try PushTarget.resolve(probe, of: school, governor: governor)
            } catch {
                problems.append(.warning(file, line: probe.line, "\(error.message); until then its runs are recorded as failed"))
            }
        }
        return problems.containsError ? (nil, problems) : (school, problems)
    }

    static func readTiming(_ document: INIDocument, governor: GovernorSettings, problems: inout [ConfigProblem]) -> Timing? {
        guard let section = document.section("Timing") else {
            problems.append(.error(document.file, "missing section [Timing] (with boundaries, runs_per_period and delay)"))
            return nil
        }
        var reader = SectionReader(section, in: document, knownKeys: timingKeys)
        defer { problems += reader.problems }

        var boundaries: [(time: TimeOfDay, line: Int)] = []
        for piece in reader.list("boundaries") {
            guard let time = TimeOfDay(parsing: piece.text) else {
                reader.error("boundary '\(piece.text)' is not a time of day; expected HHMM, HH:MM or HH:MM:SS (e.g. 0530 or 17:45)", line: piece.line)
                continue
            }
            if let previous = boundaries.last {
                if previous.time == time {
                    reader.error("boundary \(time) appears twice (lines \(previous.line) and \(piece.line))", line: piece.line)
                    continue
                }
                if time < previous.time {
                    reader.error("boundary \(time) comes after \(previous.time) (line \(previous.line)); list boundaries in increasing order within the day", line: piece.line)
                    continue
                }
            }
            boundaries.append((time, piece.line))
        }
        let overnight = reader.bool("overnight") ?? true
        let boundariesLine = reader.entry("boundaries")?.line
        if reader.entry("boundaries") == nil {
            reader.error("missing 'boundaries' in [Timing]: the times of day that delimit the test windows", line: section.line)
        } else if boundaries.isEmpty && !reader.problems.containsError {
            reader.error("'boundaries' lists no time of day", line: boundariesLine)
        } else if boundaries.count == 1 && !overnight {
            reader.error("one boundary with 'overnight = no' gives no window; list at least two boundaries", line: boundariesLine)
        }

        let runs = reader.integer("runs_per_period", in: ConfigLimits.runsPerPeriod)
        if reader.entry("runs_per_period") == nil {
            reader.error("missing 'runs_per_period' in [Timing]: how many times each probe runs per window", line: section.line)
        }
        let delay = reader.duration("delay", in: ConfigLimits.delay, bareUnit: .minutes)
        if reader.entry("delay") == nil {
            reader.error("missing 'delay' in [Timing]: the minimum pause between two tests of the school (a bare number is minutes, as in the original governor)", line: section.line)
        }
        var testDuration = governor.testDurationSeconds
        if let duration = reader.duration("test_duration", in: ConfigLimits.testDuration) { testDuration = duration }
        guard let runs, let delay, !reader.problems.containsError else { return nil }
        return Timing(boundaries: boundaries.map(\.time), runsPerPeriod: runs, delaySeconds: delay,
                      testDurationSeconds: testDuration, overnight: overnight)
    }
}
