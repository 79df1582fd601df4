public import GovernorCore

/// Everything the operator's views show: the dashboard, `GET /v1/status` and
/// `governor status` all render this one value, so they never disagree.
public struct StatusReport: Codable, Sendable, Equatable {
    public var version: String
    public var generatedAt: Instant
    public var startedAt: Instant
    public var summary: Summary
    /// Which page of the fleet `schools` is; nil for one school's page.
    public var page: Page?
    public var schools: [SchoolStatus]

    public init(version: String, generatedAt: Instant, startedAt: Instant, summary: Summary, page: Page? = nil, schools: [SchoolStatus]) {
        self.version = version
        self.generatedAt = generatedAt
        self.startedAt = startedAt
        self.summary = summary
        self.page = page
        self.schools = schools
    }

    public var uptimeSeconds: Int64 { max(0, generatedAt.unixTime - startedAt.unixTime) }

    enum CodingKeys: String, CodingKey {
        case version, summary, page, schools
        case generatedAt = "generated_at"
        case startedAt = "started_at"
    }

    /// A page of a fleet view: how many schools it may hold, how many schools and
    /// probes the whole query matched (exact, whatever the page), and the cursor of
    /// the next page (nil on the last).
    public struct Page: Codable, Sendable, Equatable {
        public var limit: Int
        public var matchedSchools: Int
        public var matchedProbes: Int
        public var nextCursor: String?

        public init(limit: Int, matchedSchools: Int, matchedProbes: Int, nextCursor: String?) {
            self.limit = limit
            self.matchedSchools = matchedSchools
            self.matchedProbes = matchedProbes
            self.nextCursor = nextCursor
        }

        enum CodingKeys: String, CodingKey {
            case limit
            case matchedSchools = "matched_schools"
            case matchedProbes = "matched_probes"
            case nextCursor = "next_cursor"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(limit, forKey: .limit)
            try container.encode(matchedSchools, forKey: .matchedSchools)
            try container.encode(matchedProbes, forKey: .matchedProbes)
            // Written as null on the last page, so that a client can loop until it is.
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// The counts at the top of the dashboard.
    public struct Summary: Codable, Sendable, Equatable {
        public var schools: Int
        public var probes: Int
        public var up: Int
        public var down: Int
        public var neverSeen: Int
        /// Alert email queued and not delivered yet.
        public var outboxPending: Int
        /// Of those, how many have failed at least once.
        public var outboxFailing: Int
        /// What the schools' measurements say: the fleet's KPIs and its schools by state.
        public var measurements: MeasurementOverview?
        /// Shared egresses, identity conflicts and egresses over the daily budget.
        public var egress: EgressOverview?
        /// Incidents open now (``IncidentView``).
        public var incidentsOpen: Int?

        public init(schools: Int, probes: Int, up: Int, down: Int, neverSeen: Int, outboxPending: Int, outboxFailing: Int) {
            self.schools = schools
            self.probes = probes
            self.up = up
            self.down = down
            self.neverSeen = neverSeen
            self.outboxPending = outboxPending
            self.outboxFailing = outboxFailing
        }

        /// Counts the probes by state.
        public init(schools: Int, probeStates states: [ProbeState], outboxPending: Int, outboxFailing: Int) {
            self.init(schools: schools, probes: states.count,
                      up: states.count { $0 == .up }, down: states.count { $0 == .down }, neverSeen: states.count { $0 == .neverSeen },
                      outboxPending: outboxPending, outboxFailing: outboxFailing)
        }

        enum CodingKeys: String, CodingKey {
            case schools, probes, up, down, measurements, egress
            case neverSeen = "never_seen"
            case incidentsOpen = "incidents_open"
            case outboxPending = "outbox_pending"
            case outboxFailing = "outbox_failing"
        }
    }
}

/// One school: its probes and today's runs.
public struct SchoolStatus: Codable, Sendable, Equatable {
    public var name: String
    public var timezone: String
    public var file: String
    public var probes: [ProbeRow]
    public var today: TimelineDay
    /// Where its measurements stand over its window, against its target.
    public var measurement: SchoolMeasurement?
    /// Its labels (`labels`), the governor's defaults included; absent when it has none.
    public var labels: [String: String]?

    public init(name: String, timezone: String, file: String, probes: [ProbeRow], today: TimelineDay) {
        self.name = name
        self.timezone = timezone
        self.file = file
        self.probes = probes
        self.today = today
    }
}

/// The fleet's measurement figures (docs/measurements.md defines each): its three
/// KPIs as counts and shares, and its schools by state.
public struct MeasurementOverview: Codable, Sendable, Equatable {
    public var schools: Int
    /// Schools with a download measured in their window.
    public var measured: Int
    public var meetingTarget: Int
    /// `meeting_target` ÷ `measured`.
    public var meetingTargetShare: Double?
    /// Schools with a contract and a measured window.
    public var contracted: Int
    public var reachingContract: Int
    /// `reaching_80_percent_of_contract` ÷ `contracted`.
    public var reachingContractShare: Double?
    public var reportedRecently: Int
    /// `reported_last_7_open_days` ÷ `schools`.
    public var reportedRecentlyShare: Double?
    /// Schools by state.
    public var meets: Int
    public var below: Int
    public var poor: Int
    public var noData: Int
    /// False while the governor is still reading the stored measurements after its start.
    public var complete: Bool

    public init(_ kpis: MeasurementKPIs, states: [MeasurementState: Int], complete: Bool) {
        schools = kpis.schools
        measured = kpis.measured
        meetingTarget = kpis.meetingTarget
        meetingTargetShare = kpis.meetingTargetShare
        contracted = kpis.contracted
        reachingContract = kpis.reachingContract
        reachingContractShare = kpis.reachingContractShare
        reportedRecently = kpis.reportedRecently
        reportedRecentlyShare = kpis.reportedRecentlyShare
        meets = states[.meets] ?? 0
        below = states[.below] ?? 0
        poor = states[.poor] ?? 0
        noData = states[.noData] ?? 0
        self.complete = complete
    }

    enum CodingKeys: String, CodingKey {
        case schools, measured, contracted, complete, meets, below, poor
        case noData = "no_data"
        case meetingTarget = "meeting_target"
        case meetingTargetShare = "meeting_target_share"
        case reachingContract = "reaching_80_percent_of_contract"
        case reachingContractShare = "reaching_80_percent_of_contract_share"
        case reportedRecently = "reported_last_7_open_days"
        case reportedRecentlyShare = "reported_last_7_open_days_share"
    }
}

/// One school's measurements over its window, against its target.
public struct SchoolMeasurement: Codable, Sendable, Equatable {
    public var state: MeasurementState
    public var medianDownloadMbps: Double?
    public var medianUploadMbps: Double?
    public var measurements: Int
    public var targetDownloadMbps: Double
    public var targetSource: SchoolTarget.Source
    public var reportedRecently: Bool
    /// True when the figures are of group runs' summed throughputs (every probe of the
    /// school is in a group); absent otherwise.
    public var byGroupRuns: Bool?

    public init(_ standing: SchoolStanding) {
        byGroupRuns = standing.byGroupRuns ? true : nil
        state = standing.state
        medianDownloadMbps = standing.medianDownloadMbps
        medianUploadMbps = standing.medianUploadMbps
        measurements = standing.measurements
        targetDownloadMbps = standing.target.downloadMbps
        targetSource = standing.target.source
        reportedRecently = standing.reportedRecently
    }

    enum CodingKeys: String, CodingKey {
        case state, measurements
        case medianDownloadMbps = "median_download_mbps"
        case medianUploadMbps = "median_upload_mbps"
        case targetDownloadMbps = "target_download_mbps"
        case targetSource = "target_source"
        case reportedRecently = "reported_last_7_open_days"
        case byGroupRuns = "by_group_runs"
    }
}

/// One probe's line of a school's table.
public struct ProbeRow: Codable, Sendable, Equatable {
    public var probe: String
    public var mode: ProbeConfig.Mode
    public var label: String?
    public var address: String?
    public var state: ProbeState
    public var stateSince: Instant?
    public var lastContact: Instant?
    public var consecutiveMissed: Int
    /// The probe's clock minus the governor's, from its latest report.
    public var clockOffsetMs: Double?
    public var lastResult: ResultSummary?
    public var nextRun: Instant?
    /// Where its tests and requests leave the school from, once known.
    public var egress: ProbeEgress?
    /// The silence in force that covers it: its misses are judged and shown, no alert goes out.
    public var silenced: Silenced?
    /// Its `[Group NAME]`: it tests together with the group's other probes.
    public var group: String?

    /// A probe's silence, as its row shows it.
    public struct Silenced: Codable, Sendable, Equatable {
        public var id: Int64
        public var until: Instant
        public var reason: String

        public init(id: Int64, until: Instant, reason: String) {
            self.id = id
            self.until = until
            self.reason = reason
        }
    }

    public init(probe: String, mode: ProbeConfig.Mode, label: String?, address: String?, state: ProbeState, stateSince: Instant?,
                lastContact: Instant?, consecutiveMissed: Int, clockOffsetMs: Double?, lastResult: ResultSummary?, nextRun: Instant?, egress: ProbeEgress? = nil) {
        self.probe = probe
        self.mode = mode
        self.label = label
        self.address = address
        self.state = state
        self.stateSince = stateSince
        self.lastContact = lastContact
        self.consecutiveMissed = consecutiveMissed
        self.clockOffsetMs = clockOffsetMs
        self.lastResult = lastResult
        self.nextRun = nextRun
        self.egress = egress
    }

    enum CodingKeys: String, CodingKey {
        case probe, mode, label, address, state
        case stateSince = "state_since"
        case lastContact = "last_contact"
        case consecutiveMissed = "consecutive_missed"
        case clockOffsetMs = "clock_offset_ms"
        case lastResult = "last_result"
        case nextRun = "next_run"
        case egress, silenced, group
    }
}

/// A probe's egress (docs/measurements.md, "Egress"): the address its tests leave the
/// school from, who else is behind it, and whether the probe's id is seen switching.
public struct ProbeEgress: Codable, Sendable, Equatable {
    /// The measured address when there is one, else the request address.
    public var address: String
    public var source: EgressLedger.Source
    public var requestAddress: String?
    public var measuredAddress: String?
    /// The other probes on the same egress, by name (at most 5 of them; ``sharedCount`` counts them all).
    public var sharedWith: [EgressPeer]
    /// How many other probes are on it in all.
    public var sharedCount: Int
    public var testsLast24h: Int
    public var identityConflict: IdentityConflict?

    public init(_ view: EgressLedger.ProbeView) {
        address = view.address.description
        source = view.source
        requestAddress = view.requestAddress?.description
        measuredAddress = view.measuredAddress?.description
        sharedWith = view.sharedWith.map { EgressPeer(probe: $0.probe, school: $0.school) }
        sharedCount = view.sharedCount
        testsLast24h = view.testsLast24h
        identityConflict = view.conflict.map(IdentityConflict.init)
    }

    enum CodingKeys: String, CodingKey {
        case address, source
        case requestAddress = "request_address"
        case measuredAddress = "measured_address"
        case sharedWith = "shared_with"
        case sharedCount = "shared_count"
        case testsLast24h = "tests_last_24h"
        case identityConflict = "identity_conflict"
    }
}

/// Another probe on the same egress.
public struct EgressPeer: Codable, Sendable, Equatable {
    public var probe: String
    public var school: String

    public init(probe: String, school: String) {
        self.probe = probe
        self.school = school
    }
}

/// A probe id seen switching between addresses of one family at least twice in 24
/// hours: most likely one SD-card image on several boxes, or one token shared.
public struct IdentityConflict: Codable, Sendable, Equatable {
    public var source: EgressLedger.Source
    /// The addresses seen, latest first.
    public var addresses: [String]
    public var switches: Int
    public var since: Instant

    public init(_ conflict: EgressLedger.Conflict) {
        source = conflict.source
        addresses = conflict.addresses.map(\.description)
        switches = conflict.switches
        since = Instant(conflict.since)
    }
}

/// The fleet's egresses at a glance.
public struct EgressOverview: Codable, Sendable, Equatable {
    /// Egresses more than one probe is on, and how many probes those are.
    public var sharedEgresses: Int
    public var probesSharing: Int
    /// `[Governor] daily_tests_per_egress`, if set.
    public var dailyTestsPerEgress: Int?
    /// The probes in an identity conflict (the first 20 by name), and how many in all.
    public var identityConflicts: [ConflictLine]
    public var identityConflictCount: Int
    /// The egresses over the daily budget (the 20 busiest), and how many in all.
    public var overDailyBudget: [BusyEgress]
    public var overDailyBudgetCount: Int

    public init(sharedEgresses: Int, probesSharing: Int, dailyTestsPerEgress: Int?, identityConflicts: [ConflictLine], identityConflictCount: Int,
                overDailyBudget: [BusyEgress], overDailyBudgetCount: Int) {
        self.sharedEgresses = sharedEgresses
        self.probesSharing = probesSharing
        self.dailyTestsPerEgress = dailyTestsPerEgress
        self.identityConflicts = identityConflicts
        self.identityConflictCount = identityConflictCount
        self.overDailyBudget = overDailyBudget
        self.overDailyBudgetCount = overDailyBudgetCount
    }

    public struct ConflictLine: Codable, Sendable, Equatable {
        public var probe: String
        public var school: String
        public var conflict: IdentityConflict

        public init(probe: String, school: String, conflict: IdentityConflict) {
            self.probe = probe
            self.school = school
            self.conflict = conflict
        }
    }

    public struct BusyEgress: Codable, Sendable, Equatable {
        public var address: String
        public var testsLast24h: Int
        /// The probes on it (the first 20 by name), and how many in all.
        public var probes: [String]
        public var probeCount: Int

        public init(_ busy: EgressLedger.BusyEgress) {
            address = busy.address.description
            testsLast24h = busy.tests
            probes = busy.probes
            probeCount = busy.probeCount
        }

        enum CodingKeys: String, CodingKey {
            case address, probes
            case testsLast24h = "tests_last_24h"
            case probeCount = "probe_count"
        }
    }

    enum CodingKeys: String, CodingKey {
        case sharedEgresses = "shared_egresses"
        case probesSharing = "probes_sharing"
        case dailyTestsPerEgress = "daily_tests_per_egress"
        case identityConflicts = "identity_conflicts"
        case identityConflictCount = "identity_conflict_count"
        case overDailyBudget = "over_daily_budget"
        case overDailyBudgetCount = "over_daily_budget_count"
    }
}

/// A stored result, reduced to what a table cell shows.
public struct ResultSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var runAt: Instant?
    public var exitCode: Int?
    /// Why a push run did not run or finish ("connect: …", "skipped: …").
    public var failure: String?
    /// `started_at` minus the run time: how long after its run time the test began,
    /// by the timestamp the result carries.
    public var latenessMs: Int64?
    /// The probe's own spawn lateness, by its own clock, as it reported it (pull only).
    public var startLatenessMs: Double?

    public init(id: Int64, runAt: Instant?, exitCode: Int?, failure: String?, latenessMs: Int64?, startLatenessMs: Double? = nil) {
        self.id = id
        self.runAt = runAt
        self.exitCode = exitCode
        self.failure = failure
        self.latenessMs = latenessMs
        self.startLatenessMs = startLatenessMs
    }

    /// Exit status 0 and no failure.
    public var succeeded: Bool { failure == nil && exitCode == 0 }

    enum CodingKeys: String, CodingKey {
        case id, failure
        case runAt = "run_at"
        case exitCode = "exit_code"
        case latenessMs = "lateness_ms"
        case startLatenessMs = "start_lateness_ms"
    }
}

/// An instant to the second, written as RFC 3339 UTC in JSON.
public struct Instant: Codable, Sendable, Hashable, Comparable {
    public var unixTime: UnixTime

    public init(_ unixTime: UnixTime) {
        self.unixTime = unixTime
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = RFC3339.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an RFC 3339 time")
        }
        unixTime = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(RFC3339.format(unixTime))
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.unixTime < rhs.unixTime }
}
