import Foundation

/// Loads `governor.cfg` and the school files it names, validating as it goes.
///
/// One bad school file never stops the others: the loader returns the schools that
/// are valid and every problem (with file and line) it found in the rest.
public enum ConfigLoader {
    /// Loads the main file at `path` and every school.
    ///
    /// - Throws: ``ConfigurationError`` when the main file cannot be read or parsed,
    ///   or its `[Governor]` section is invalid; school problems are returned instead.
    /// - Parameter lastGood: the text each school file had when it last loaded without
    ///   errors (the state database keeps them). A school whose file has errors now
    ///   runs on that text instead, so that a broken file never un-knows a school's
    ///   probes, not even across a restart; its errors are reported all the same.
    public static func load(governorFile path: String, lastGood: [String: String] = [:]) throws(ConfigurationError) -> Configuration {
        let parsed: (document: INIDocument, problems: [ConfigProblem])
        do {
            parsed = try INIParser.read(contentsOf: path)
        } catch {
            throw ConfigurationError(problems: [error])
        }
        guard parsed.problems.isEmpty else { throw ConfigurationError(problems: parsed.problems) }
        let document = parsed.document

        var problems: [ConfigProblem] = []
        let governor = readGovernor(document, problems: &problems)
        if let days = governor.alertSettings.belowTargetDays, days >= governor.measurement.windowDays {
            problems.append(.error(document.file, line: governor.alerts?["below_target_days"]?.line,
                "'below_target_days' is \(days); it must be shorter than measurement_window (\(governor.measurement.windowDays) open days), over which the governor keeps daily medians"))
        }
        guard !problems.containsError else { throw ConfigurationError(problems: problems) }

        var schools: [SchoolConfig] = []
        var loadedSources: [String: String] = [:]
        var keptFromLastGood: [String] = []
        let holdsSchool = ["Timing", "Probes", "School"].contains { document.section($0) != nil }
        if holdsSchool {
            let (school, schoolProblems) = readSchool(document, governor: governor, ignoring: ["Governor", "Alerts", "SSH"])
            problems += schoolProblems
            if let school { schools.append(school) }
        }
        if let directory = governor.schoolsDirectory {
            let files = schoolFiles(in: directory, declaredIn: document, problems: &problems)
            for read in readSchoolFiles(files, governor: governor, lastGood: lastGood) {
                problems += read.problems
                if let school = read.school {
                    schools.append(school)
                    if read.keptFromLastGood { keptFromLastGood.append(read.file) } else { loadedSources[read.file] = read.text }
                }
            }
        }
        if schools.isEmpty && !problems.containsError {
            problems.append(.warning(path, "no school is configured: add [Timing] and [Probes] to this file, or set 'schools' in [Governor] to a directory of school files"))
        }
        let (unique, clashes) = rejectClashes(schools)
        // A cap the fleet cannot meet is governor.cfg's error: it is not started on,
        // and a reload keeps the configuration in force.
        if let capProblem = capProblem(of: unique, governor: governor, file: path, at: UnixTime(Date().timeIntervalSince1970)) {
            throw ConfigurationError(problems: problems + clashes + [capProblem])
        }
        var configuration = Configuration(governor: governor, schools: unique, problems: problems + clashes)
        configuration.loadedSources = loadedSources
        configuration.keptFromLastGood = keptFromLastGood
        return configuration
    }

    /// What reading one school file gave.
    struct SchoolFileRead: Sendable {
        var file: String
        /// The file's text, when it could be read.
        var text: String?
        var school: SchoolConfig?
        var problems: [ConfigProblem]
        /// The file has errors and `school` comes from its last good text.
        var keptFromLastGood = false
    }

    /// Reads the school files in parallel (each file alone is pure work on its own
    /// text), and returns what each gave in the order of `files`: 10,000 school files
    /// load in a fraction of the time one core takes.
    static func readSchoolFiles(_ files: [String], governor: GovernorSettings, lastGood: [String: String]) -> [SchoolFileRead] {
        [SchoolFileRead](unsafeUninitializedCapacity: files.count) { buffer, count in
            let slots = Slots(base: buffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: files.count) { index in
                slots.fill(index, with: readSchoolFile(files[index], governor: governor, lastGood: lastGood[files[index]]))
            }
            count = files.count
        }
    }

    /// The result array's storage while `concurrentPerform` fills it: each iteration
    /// initializes its own slot once, and no slot is read before all are written.
    private struct Slots: @unchecked Sendable {
        let base: UnsafeMutablePointer<SchoolFileRead>?

        func fill(_ index: Int, with read: SchoolFileRead) {
            base?.advanced(by: index).initialize(to: read)
        }
    }

    /// One school file, or its last good text when the file has errors now.
    static func readSchoolFile(_ file: String, governor: GovernorSettings, lastGood: String?) -> SchoolFileRead {
        let text: String
        do {
            text = try INIParser.text(contentsOf: file)
        } catch {
            return SchoolFileRead(file: file, text: nil, school: nil, problems: [error])
        }
        var read = SchoolFileRead(file: file, text: text, school: nil, problems: [])
        (read.school, read.problems) = loadSchool(text: text, file: file, governor: governor)
        if read.school == nil, let lastGood, lastGood != text, case (let kept?, _) = loadSchool(text: lastGood, file: file, governor: governor) {
            read.problems.append(.warning(file, "school '\(kept.name)' keeps its last good configuration (the last text of this file that loaded without errors) until its file is fixed"))
            read.school = kept
            read.keptFromLastGood = true
        }
        return read
    }

    /// Loads one school file.
    ///
    /// - Returns: the school, or nil with at least one error among the problems.
    public static func loadSchool(file: String, governor: GovernorSettings) -> (SchoolConfig?, [ConfigProblem]) {
        do {
            return loadSchool(text: try INIParser.text(contentsOf: file), file: file, governor: governor)
        } catch {
            return (nil, [error])
        }
    }

    /// Loads one school from `text`, as if read from `file` (whose directory relative paths resolve against).
    public static func loadSchool(text: String, file: String, governor: GovernorSettings) -> (SchoolConfig?, [ConfigProblem]) {
        let (document, problems) = INIParser.parse(text, file: file)
        guard problems.isEmpty else { return (nil, problems) }
        return readSchool(document, governor: governor, ignoring: [])
    }

    /// The `*.cfg` files of the schools directory, in name order.
    static func schoolFiles(in directory: String, declaredIn document: INIDocument, problems: inout [ConfigProblem]) -> [String] {
        let line = document.section("Governor")?["schools"]?.line
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            problems.append(.error(document.file, line: line, "the schools directory '\(directory)' does not exist or is not a directory"))
            return []
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            problems.append(.error(document.file, line: line, "the schools directory '\(directory)' cannot be read (check its permissions)"))
            return []
        }
        return names.filter { $0.hasSuffix(".cfg") && !$0.hasPrefix(".") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}
