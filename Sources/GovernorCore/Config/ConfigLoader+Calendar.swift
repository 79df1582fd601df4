import Foundation

/// A school's calendar: `open_days`, `closed` and `calendar` in `[School]`, and the
/// shared calendar files that `calendar` names.
extension ConfigLoader {
    static let calendarKeys = ["open_days", "closed", "calendar"]

    /// The calendar of a school's `[School]` section. A calendar file that cannot be
    /// read, or an item that does not parse, is an error naming its file and line.
    static func readCalendar(_ reader: inout SectionReader) -> SchoolCalendar {
        var calendar = SchoolCalendar()
        if let entry = reader.entry("open_days") {
            let items = reader.list("open_days")
            switch CalendarSyntax.weekdays(items.map(\.text)) {
            case .success(let days) where !days.isEmpty:
                calendar.openDays = days
            case .success:
                reader.error("'open_days' names no weekday; expected e.g. mon-fri", line: entry.line)
            case .failure(let error):
                reader.error("'\(error.item)' in 'open_days' is not \(error.expected)", line: items.first { $0.text == error.item }?.line ?? entry.line)
            }
        }
        for piece in reader.list("closed") {
            switch CalendarSyntax.dates(piece.text) {
            case .success(let range):
                calendar.closures.append(SchoolCalendar.Closure(first: range.first, last: range.last, label: "closed"))
            case .failure(let error):
                reader.error("'\(piece.text)' in 'closed' is not \(error.expected)", line: piece.line)
            }
        }
        for piece in reader.list("calendar") {
            let path = ConfigPaths.resolve(piece.text, relativeTo: reader.file)
            let (closures, problems) = readCalendarFile(path)
            if let unreadable = problems.first(where: { $0.line == nil && $0.isError }) {
                reader.error("calendar '\(piece.text)' cannot be used: \(unreadable.message)", line: piece.line)
            }
            reader.add(problems.filter { $0.line != nil })
            calendar.closures += closures
        }
        return calendar
    }

    /// The `[Closed]` entries of a calendar file: `label = DATE or FIRST..LAST, …`.
    static func readCalendarFile(_ path: String) -> ([SchoolCalendar.Closure], [ConfigProblem]) {
        let document: INIDocument
        var problems: [ConfigProblem]
        do {
            (document, problems) = try INIParser.read(contentsOf: path)
        } catch {
            return ([], [.error(path, error.message)])
        }
        for section in document.sections where section.name != "Closed" {
            problems.append(unknownSection(section, in: path, known: ["Closed"]))
        }
        guard let section = document.section("Closed") else {
            problems.append(.warning(path, "no [Closed] section: this calendar closes no day"))
            return ([], problems)
        }
        var closures: [SchoolCalendar.Closure] = []
        for entry in section.entries {
            let items = entry.pieces.flatMap { piece in
                piece.text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { (text: String($0), line: piece.line) }
            }
            if items.isEmpty { problems.append(.error(path, line: entry.line, "'\(entry.key)' in [Closed] names no date")) }
            for item in items {
                switch CalendarSyntax.dates(item.text) {
                case .success(let range):
                    closures.append(SchoolCalendar.Closure(first: range.first, last: range.last, label: entry.key))
                case .failure(let error):
                    problems.append(.error(path, line: item.line, "'\(item.text)' in '\(entry.key)' is not \(error.expected)"))
                }
            }
        }
        return (closures, problems)
    }
}
