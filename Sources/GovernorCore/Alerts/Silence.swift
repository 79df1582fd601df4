/// Quiet time for the built-in alerts (`governor silence add`): planned work at a
/// school, on one probe, or on every school with a label, from now until a time.
///
/// While a silence covers a probe, its misses are judged and shown as usual, with a
/// `silenced` flag, but neither an email nor an Alertmanager post goes out; when the
/// silence ends, one email says what is still DOWN.
public struct Silence: Sendable, Equatable {
    /// What a silence covers.
    public enum Matcher: Sendable, Equatable, Hashable {
        case school(String)
        case probe(String)
        case label(SchoolLabels.Label)

        /// `school=riverside`, `probe=riverside-1`, `label:isp=acme-telecom`.
        public var description: String {
            switch self {
            case .school(let name): "school \(name)"
            case .probe(let name): "probe \(name)"
            case .label(let label): "label \(label)"
            }
        }

        public func covers(probe: String, school: SchoolConfig) -> Bool {
            switch self {
            case .school(let name): school.name == name
            case .probe(let name): probe == name
            case .label(let label): school.labels[label.key] == label.value
            }
        }

        /// Whether it covers anything of `school` (a school, or a probe of it, or its label).
        public func touches(_ school: SchoolConfig) -> Bool {
            switch self {
            case .school(let name): school.name == name
            case .probe(let name): school.probes.contains { $0.name == name }
            case .label(let label): school.labels[label.key] == label.value
            }
        }
    }

    /// Nil until stored.
    public var id: Int64?
    public var matcher: Matcher
    public var startsAt: UnixTime
    public var endsAt: UnixTime
    public var reason: String
    /// Who made it, as the client said (`governor silence` sends the user and host).
    public var author: String
    /// When it was removed before its end, if it was.
    public var removedAt: UnixTime?

    public init(id: Int64? = nil, matcher: Matcher, startsAt: UnixTime, endsAt: UnixTime, reason: String, author: String, removedAt: UnixTime? = nil) {
        self.id = id
        self.matcher = matcher
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.reason = reason
        self.author = author
        self.removedAt = removedAt
    }

    /// When it stops silencing: its end, or its removal if that came first.
    public var endedAt: UnixTime { min(endsAt, removedAt ?? endsAt) }

    public func isActive(at now: UnixTime) -> Bool {
        startsAt <= now && now < endedAt
    }

    public func covers(probe: String, school: SchoolConfig, at now: UnixTime) -> Bool {
        isActive(at: now) && matcher.covers(probe: probe, school: school)
    }

    /// The longest silence: a planned closure beyond it belongs in the school's calendar.
    public static let longestSeconds: UnixTime = 366 * 86_400
    public static let longestReason = 500

    /// The schools it touches that their calendar closes for all of it: they have no
    /// runs then, so no alert can come, and the silence is unnecessary for them.
    public func closedSchools(among schools: [SchoolConfig]) -> [String] {
        schools.filter { matcher.touches($0) }.compactMap { school in
            var date = LocalDate(containing: startsAt, in: school.timeZone)
            let last = LocalDate(containing: endedAt - 1, in: school.timeZone)
            for _ in 0..<400 where date <= last {
                if school.calendar.isOpen(on: date) { return nil }
                date = date.adding(days: 1)
            }
            return date > last ? school.name : nil
        }
    }

    /// What the CLI and `governor check` say of a school ``closedSchools(among:)`` lists.
    public static func closedNote(_ school: String) -> String {
        "school \(school) is closed (calendar) for the whole silence: it has no runs then, so no alert can come; the silence is unnecessary"
    }
}
