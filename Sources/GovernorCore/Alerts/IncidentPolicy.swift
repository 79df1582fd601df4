/// One outage that took many schools down together: a regional ISP, a district's
/// network, or the governor's own link. One email opens it and one closes it,
/// instead of one per school (the schools' own DOWN emails are held while they
/// belong to it).
public struct Incident: Sendable, Equatable {
    /// What the schools share.
    public enum Scope: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// The schools with one value of one label (`isp=acme-telecom`).
        case label(SchoolLabels.Label)
        /// No label in common, but a large part of the fleet.
        case fleet

        /// `isp=acme-telecom`, or `fleet`.
        public var description: String {
            switch self {
            case .label(let label): label.description
            case .fleet: "fleet"
            }
        }

        public func includes(_ school: SchoolConfig) -> Bool {
            switch self {
            case .label(let label): school.labels[label.key] == label.value
            case .fleet: true
            }
        }
    }

    /// Nil until stored.
    public var id: Int64?
    public var scope: Scope
    public var openedAt: UnixTime
    /// When the first of its schools went down.
    public var since: UnixTime
    /// Its schools, by name.
    public var schools: [String]
    public var closedAt: UnixTime?
    /// At its close: the schools back, and those still down.
    public var recovered: [String] = []
    public var stillDown: [String] = []
    /// After its close: the schools of ``stillDown`` that came back since the last
    /// grouped recovery email, which tells of them (and then moves them to ``recovered``).
    public var laterRecovered: [String] = []
    /// After its close: when the last grouped recovery email went out (the close's own
    /// email first), so that there is at most one per `incident_span`.
    public var reportedAt: UnixTime?

    public init(id: Int64? = nil, scope: Scope, openedAt: UnixTime, since: UnixTime, schools: [String], closedAt: UnixTime? = nil,
                recovered: [String] = [], stillDown: [String] = [], laterRecovered: [String] = [], reportedAt: UnixTime? = nil) {
        self.id = id
        self.scope = scope
        self.openedAt = openedAt
        self.since = since
        self.schools = schools
        self.closedAt = closedAt
        self.recovered = recovered
        self.stillDown = stillDown
        self.laterRecovered = laterRecovered
        self.reportedAt = reportedAt
    }

    public var isOpen: Bool { closedAt == nil }
}

/// `[Alerts] incident_*`: when schools down together are one incident.
public struct IncidentSettings: Sendable, Equatable {
    /// `incident_min_schools`: at least this many schools.
    public var minSchools = 5
    /// `incident_labels`: the label keys an incident may share, in order; nil: every
    /// key the schools carry, in the order first given.
    public var labelKeys: [String]?
    /// `incident_fleet_fraction`: without a label in common, at least this share of the fleet.
    public var fleetFraction = 0.10
    /// `incident_span`: schools that went down within this of each other.
    public var spanSeconds: UnixTime = 900
    /// `incident_max`: an incident ends after this at the latest.
    public var maxSeconds: UnixTime = 86_400
    /// `incident_wait`: how long a school's DOWN email waits for an incident to form,
    /// in a fleet large enough to have one.
    public var waitSeconds: UnixTime = 120

    public init() {}

    /// Whether a fleet of `schools` schools can have an incident at all.
    public func applies(toFleetOf schools: Int) -> Bool { schools >= minSchools }
}

/// The incident rule, as a value: from the schools down now (each since when), the
/// incidents open and the clock, which incidents open, which schools join them and
/// which end. No I/O; the alert service stores the incidents and sends their email.
///
/// - **Open.** Among the schools down for at most `span` that belong to no open
///   incident, the first label key (of `incident_labels`) whose one value at least
///   `incident_min_schools` of them share opens an incident for that value (several
///   values may each open one); the rest that have been down for `incident_wait`, if
///   at least `incident_min_schools` and at least `incident_fleet_fraction` of the
///   fleet, open one for the fleet.
/// - **Join.** A school that goes down while an open incident includes it (same label
///   value, or any school for the fleet's) and no more than `span` before the
///   incident began joins it.
/// - **Close.** When more than half of its schools are back, or `incident_max` after
///   it opened.
public enum IncidentPolicy {
    /// What a pass decided.
    public struct Step: Sendable, Equatable {
        /// The incidents open after the pass (the new ones last, without ids yet).
        public var open: [Incident] = []
        /// Of those, the ones opened in this pass.
        public var opened: [Incident] = []
        /// The ones closed in this pass, with their lists.
        public var closed: [Incident] = []

        public init() {}

        /// The open incident a school belongs to.
        public func incident(of school: String) -> Incident? {
            open.first { $0.schools.contains(school) }
        }
    }

    /// - Parameters:
    ///   - open: the incidents open before the pass.
    ///   - down: the schools whose every probe is DOWN, each since the last of them went down.
    ///   - schools: the configured schools (their labels; their count is the fleet).
    public static func step(open: [Incident], down: [String: UnixTime], schools: [SchoolConfig], settings: IncidentSettings,
                            now: UnixTime) -> Step {
        var step = Step()
        let byName = Dictionary(schools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for var incident in open {
            let back = incident.schools.filter { down[$0] == nil }
            if back.count * 2 > incident.schools.count || now - incident.openedAt >= settings.maxSeconds {
                incident.closedAt = now
                incident.reportedAt = now  // the close's email is the first report
                incident.recovered = back
                incident.stillDown = incident.schools.filter { down[$0] != nil }
                step.closed.append(incident)
            } else {
                step.open.append(incident)
            }
        }
        // The schools an incident closing now leaves down carry on with their own alerts.
        var member = Set(step.open.flatMap(\.schools) + step.closed.flatMap(\.stillDown))
        // Join: a school going down within the incident's span.
        for (name, since) in down.sorted(by: { $0.key < $1.key }) where !member.contains(name) {
            guard let school = byName[name] else { continue }
            guard let index = step.open.firstIndex(where: { $0.scope.includes(school) && since >= $0.since - settings.spanSeconds }) else { continue }
            step.open[index].schools.append(name)
            step.open[index].schools.sort()
            member.insert(name)
        }
        // Open: the recent downs of no incident, by label, then the fleet.
        var candidates = down.filter { !member.contains($0.key) && $0.value >= now - settings.spanSeconds && byName[$0.key] != nil }
        guard candidates.count >= settings.minSchools else { return step }
        let keys = settings.labelKeys ?? orderedKeys(of: schools)
        for key in keys {
            var groups: [String: [String]] = [:]
            for name in candidates.keys {
                if let value = byName[name]?.labels[key] { groups[value, default: []].append(name) }
            }
            let large = groups.filter { $0.value.count >= settings.minSchools }
                .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            for (value, names) in large {
                let incident = Incident(scope: .label(.init(key: key, value: value)), openedAt: now,
                                        since: names.compactMap { candidates[$0] }.min() ?? now, schools: names.sorted())
                step.open.append(incident)
                step.opened.append(incident)
                for name in names { candidates[name] = nil }
            }
        }
        // The fleet's incident counts only the schools down for `incident_wait`: until
        // then a school may still turn out to be one of a label's incident (its
        // fellows go down a little later), which explains it better.
        let settled = candidates.filter { now - $0.value >= settings.waitSeconds }
        if settled.count >= settings.minSchools, Double(settled.count) >= settings.fleetFraction * Double(schools.count) {
            let incident = Incident(scope: .fleet, openedAt: now, since: settled.values.min() ?? now, schools: settled.keys.sorted())
            step.open.append(incident)
            step.opened.append(incident)
        }
        return step
    }

    /// When `school` went down as a whole: the instant its last probe went DOWN, or nil
    /// while any of its probes is not DOWN.
    public static func downSince(of school: SchoolConfig, states: [String: ProbeAlertState]) -> UnixTime? {
        var since: UnixTime?
        for probe in school.probes {
            guard let state = states[probe.name], state.status == .down else { return nil }
            since = max(since ?? state.since, state.since)
        }
        return since
    }

    /// How long after its close an incident still groups the recoveries of the schools
    /// it left down; after that, they are each told of on their own.
    public static let lingerSeconds: UnixTime = 7 * 86_400

    /// What happens to a pass's notices once the incidents are known.
    public struct Routing: Sendable, Equatable {
        /// The notices sent as without incidents.
        public var notices: [String: [AlertOutcome.Notice]] = [:]
        /// The notices an incident's email tells of instead, by school.
        public var covered: [String: [AlertOutcome.Notice]] = [:]
        /// The closed incidents that still group recoveries, updated.
        public var lingering: [Incident] = []
        /// Of those, the ones this pass changed (to store).
        public var changed: [Incident] = []
        /// The grouped recovery emails due now: each incident as it was before the report
        /// (``Incident/laterRecovered`` is what the email lists), and as stored after.
        public var reports: [(told: Incident, after: Incident)] = []

        public init() {}

        public static func == (lhs: Routing, rhs: Routing) -> Bool {
            lhs.notices == rhs.notices && lhs.covered == rhs.covered && lhs.lingering == rhs.lingering && lhs.changed == rhs.changed
                && lhs.reports.map(\.told) == rhs.reports.map(\.told) && lhs.reports.map(\.after) == rhs.reports.map(\.after)
        }
    }

    /// Decides, after ``step(open:down:schools:settings:now:)``, which notices go out as
    /// they would without incidents:
    /// - every notice of a school in an incident open now, or closed in this pass, is
    ///   told by the incident's email instead (its DOWN, its reminders, its recovery);
    /// - a school an incident left down that comes back is listed in one email per
    ///   `incident_span` with the others of that incident (its probes' recoveries are
    ///   not sent one by one), for ``lingerSeconds`` after the close; its reminders
    ///   and a new DOWN go out as usual.
    /// - Parameter lingering: the closed incidents still grouping recoveries.
    public static func route(_ notices: [String: [AlertOutcome.Notice]], step: Step, lingering: [Incident], down: [String: UnixTime],
                             settings: IncidentSettings, now: UnixTime) -> Routing {
        var routing = Routing()
        let inIncident = Set((step.open + step.closed).flatMap(\.schools))
        var backNow: Set<String> = []
        var kept: [Incident] = []
        for var incident in lingering + step.closed where !incident.stillDown.isEmpty || !incident.laterRecovered.isEmpty {
            guard let closedAt = incident.closedAt, now - closedAt < lingerSeconds else { continue }
            let back = incident.stillDown.filter { down[$0] == nil }
            if !back.isEmpty {
                incident.stillDown.removeAll { back.contains($0) }
                incident.laterRecovered += back
                backNow.formUnion(back)
            }
            var changed = !back.isEmpty
            if !incident.laterRecovered.isEmpty, now - (incident.reportedAt ?? closedAt) >= settings.spanSeconds {
                var after = incident
                after.recovered += after.laterRecovered
                after.laterRecovered = []
                after.reportedAt = now
                routing.reports.append((incident, after))
                incident = after
                changed = true
            }
            if changed { routing.changed.append(incident) }
            if !incident.stillDown.isEmpty || !incident.laterRecovered.isEmpty { kept.append(incident) }
        }
        routing.lingering = kept
        for (school, list) in notices {
            for notice in list {
                let isRecovery = if case .recovered = notice.transition { true } else { false }
                if inIncident.contains(school) || (isRecovery && backNow.contains(school)) {
                    routing.covered[school, default: []].append(notice)
                } else {
                    routing.notices[school, default: []].append(notice)
                }
            }
        }
        return routing
    }

    /// Every label key the schools carry, in the order first met.
    public static func orderedKeys(of schools: [SchoolConfig]) -> [String] {
        var keys: [String] = [], seen: Set<String> = []
        for school in schools {
            for key in school.labels.keys where seen.insert(key).inserted { keys.append(key) }
        }
        return keys
    }
}
