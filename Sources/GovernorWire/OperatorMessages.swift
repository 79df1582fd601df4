public import GovernorCore

/// The messages an operator's tools read: a probe's status, the schools, stored
/// results and the health check. The fleet's whole picture is ``StatusReport``.

/// `GET /v1/probes/{id}`, and each probe of `GET /v1/schools`: the probe's row of
/// the fleet's status, with its school and how many results it sent in 24 hours.
public struct ProbeStatus: Codable, Sendable, Equatable {
    public var probe: String
    public var school: String
    public var mode: ProbeConfig.Mode
    public var label: String?
    public var address: String?
    public var lastContact: String?
    public var nextRun: String?
    public var consecutiveMissed: Int
    public var results24h: Int
    /// UP, DOWN (after `[Alerts] missed_runs` missed runs in a row) or NEVER SEEN.
    public var status: ProbeState
    public var statusSince: String?
    public var lastResult: ResultSummary?
    public var clockOffsetMs: Double?
    /// The silence in force that covers it, as its status row shows it.
    public var silenced: ProbeRow.Silenced?
    /// Its `[Group NAME]`: it tests together with the group's other probes.
    public var group: String?

    public init(probe: String, school: String, mode: ProbeConfig.Mode, label: String?, address: String?, lastContact: String?, nextRun: String?,
                consecutiveMissed: Int, results24h: Int, status: ProbeState, statusSince: String?, lastResult: ResultSummary?, clockOffsetMs: Double?) {
        self.probe = probe
        self.school = school
        self.mode = mode
        self.label = label
        self.address = address
        self.lastContact = lastContact
        self.nextRun = nextRun
        self.consecutiveMissed = consecutiveMissed
        self.results24h = results24h
        self.status = status
        self.statusSince = statusSince
        self.lastResult = lastResult
        self.clockOffsetMs = clockOffsetMs
    }

    enum CodingKeys: String, CodingKey {
        case probe, school, mode, label, address, status
        case statusSince = "status_since"
        case lastContact = "last_contact"
        case nextRun = "next_run"
        case consecutiveMissed = "consecutive_missed"
        case results24h = "results_24h"
        case lastResult = "last_result"
        case clockOffsetMs = "clock_offset_ms"
        case silenced, group
    }
}

/// `GET /v1/schools`: a page of schools, each with its probes.
public struct SchoolList: Codable, Sendable, Equatable {
    public struct School: Codable, Sendable, Equatable {
        public var school: String
        public var timezone: String
        public var file: String
        public var probes: [ProbeStatus]
        /// Its labels (`labels`), the governor's defaults included.
        public var labels: [String: String]

        public init(school: String, timezone: String, file: String, probes: [ProbeStatus], labels: [String: String] = [:]) {
            self.school = school
            self.timezone = timezone
            self.file = file
            self.probes = probes
            self.labels = labels
        }
    }

    public var page: StatusReport.Page
    public var schools: [School]

    public init(page: StatusReport.Page, schools: [School]) {
        self.page = page
        self.schools = schools
    }
}

/// A stored result as the API shows it.
public struct ResultView: Codable, Sendable, Equatable {
    public var id: Int64
    public var probe: String
    public var school: String
    public var mode: ProbeConfig.Mode
    public var runAt: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var exitCode: Int?
    public var failure: String?
    public var output: String
    public var outputTruncated: Bool
    public var clockOffsetMs: Double?
    /// `started_at` minus `run_at`, whole milliseconds: when the test began by the
    /// probe's timestamp (or the dispatcher's, for push), against the run time.
    public var latenessMs: Int64?
    /// The probe's own spawn lateness, as it reported it (pull probes only).
    public var startLatenessMs: Double?
    public var receivedAt: String
    /// What the test measured, when its output held a measurement.
    public var measurement: SpeedMeasurement?
    /// The probe's `[Group NAME]` for a result of a group run: the results of one
    /// group run share their school, `group` and `run_at`.
    public var group: String?

    public init(id: Int64, probe: String, school: String, mode: ProbeConfig.Mode, runAt: String?, startedAt: String?, finishedAt: String?,
                exitCode: Int?, failure: String?, output: String, outputTruncated: Bool, clockOffsetMs: Double?, latenessMs: Int64?,
                startLatenessMs: Double?, receivedAt: String, measurement: SpeedMeasurement? = nil) {
        self.measurement = measurement
        self.id = id
        self.probe = probe
        self.school = school
        self.mode = mode
        self.runAt = runAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.failure = failure
        self.output = output
        self.outputTruncated = outputTruncated
        self.clockOffsetMs = clockOffsetMs
        self.latenessMs = latenessMs
        self.startLatenessMs = startLatenessMs
        self.receivedAt = receivedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, probe, school, mode, failure, output
        case runAt = "run_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case outputTruncated = "output_truncated"
        case clockOffsetMs = "clock_offset_ms"
        case latenessMs = "lateness_ms"
        case startLatenessMs = "start_lateness_ms"
        case receivedAt = "received_at"
        case measurement, group
    }
}

/// `GET /v1/probes/{id}/results`: a probe's latest results, newest first.
public struct ResultList: Codable, Sendable, Equatable {
    public var probe: String
    public var results: [ResultView]

    public init(probe: String, results: [ResultView]) {
        self.probe = probe
        self.results = results
    }
}

/// `GET /healthz`.
public struct Health: Codable, Sendable, Equatable {
    public var status: String
    public var schools: Int
    public var probes: Int
    public var version: String
    public var uptimeSeconds: Int

    public init(status: String, schools: Int, probes: Int, version: String, uptimeSeconds: Int) {
        self.status = status
        self.schools = schools
        self.probes = probes
        self.version = version
        self.uptimeSeconds = uptimeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case status, schools, probes, version
        case uptimeSeconds = "uptime_s"
    }
}

/// `GET /v1/schools/{name}/measurements`: a school's target, where it stands over its
/// window, and its measurements in the range asked for, oldest first.
public struct SchoolMeasurements: Codable, Sendable, Equatable {
    public var school: String
    public var timezone: String
    /// The range of the measurements listed: `[from, to)`.
    public var from: String
    public var to: String
    public var target: SchoolTarget
    public var contractedUploadMbps: Double?
    /// Where it stands over its window (which need not be the range listed).
    public var standing: SchoolMeasurement
    public var measurements: [MeasurementRow]
    /// The group runs among `measurements`, each with its members' summed throughput.
    public var groupRuns: [GroupRunMeasurement]

    public init(school: String, timezone: String, from: String, to: String, target: SchoolTarget, contractedUploadMbps: Double?,
                standing: SchoolMeasurement, measurements: [MeasurementRow], groupRuns: [GroupRunMeasurement] = []) {
        self.groupRuns = groupRuns
        self.school = school
        self.timezone = timezone
        self.from = from
        self.to = to
        self.target = target
        self.contractedUploadMbps = contractedUploadMbps
        self.standing = standing
        self.measurements = measurements
    }

    enum CodingKeys: String, CodingKey {
        case school, timezone, from, to, target, standing, measurements
        case contractedUploadMbps = "contracted_upload_mbps"
        case groupRuns = "group_runs"
    }
}

/// One group run of a school, as its members measured it together: what the line
/// carried is their sum.
public struct GroupRunMeasurement: Codable, Sendable, Equatable {
    public var group: String
    /// The run time its members share.
    public var runAt: String
    /// The members with a measurement of this run, in the order measured.
    public var probes: [String]
    /// The sum of the members' downloads; absent when none measured one.
    public var downloadMbps: Double?
    public var uploadMbps: Double?
    /// How many members' downloads, and uploads, are in the sums.
    public var downloads: Int
    public var uploads: Int

    public init(_ total: GroupRunTotal) {
        group = total.key.group
        runAt = RFC3339.format(total.key.runAt)
        probes = total.probes
        downloadMbps = total.downloadMbps
        uploadMbps = total.uploadMbps
        downloads = total.downloads
        uploads = total.uploads
    }

    enum CodingKeys: String, CodingKey {
        case group, probes, downloads, uploads
        case runAt = "run_at"
        case downloadMbps = "download_mbps"
        case uploadMbps = "upload_mbps"
    }
}

/// One measurement with its result and time.
public struct MeasurementRow: Codable, Sendable, Equatable {
    public var resultID: Int64
    public var probe: String
    public var measuredAt: String
    public var measurement: SpeedMeasurement
    /// The scheduled run its test belongs to, when it has one.
    public var runAt: String?
    /// The group of a group run's measurement: the rows of one group run share it and `run_at`.
    public var group: String?

    public init(resultID: Int64, probe: String, measuredAt: String, measurement: SpeedMeasurement, runAt: String? = nil, group: String? = nil) {
        self.runAt = runAt
        self.group = group
        self.resultID = resultID
        self.probe = probe
        self.measuredAt = measuredAt
        self.measurement = measurement
    }

    enum CodingKeys: String, CodingKey {
        case probe, measurement, group
        case resultID = "result_id"
        case measuredAt = "measured_at"
        case runAt = "run_at"
    }
}

/// A silence as the API shows it (`GET /v1/silences`): quiet time for the built-in
/// alerts of a school, a probe or the schools with a label.
public struct SilenceView: Codable, Sendable, Equatable {
    public var id: Int64
    /// Exactly one of `school`, `probe` and `label` is set.
    public var school: String?
    public var probe: String?
    /// `KEY=VALUE`.
    public var label: String?
    public var startsAt: Instant
    public var endsAt: Instant
    /// When it was removed before its end.
    public var removedAt: Instant?
    public var reason: String
    public var author: String
    /// In force now.
    public var active: Bool

    public init(_ silence: Silence, now: UnixTime) {
        id = silence.id ?? 0
        switch silence.matcher {
        case .school(let name): school = name
        case .probe(let name): probe = name
        case .label(let label): self.label = label.description
        }
        startsAt = Instant(silence.startsAt)
        endsAt = Instant(silence.endsAt)
        removedAt = silence.removedAt.map(Instant.init)
        reason = silence.reason
        author = silence.author
        active = silence.isActive(at: now)
    }

    enum CodingKeys: String, CodingKey {
        case id, school, probe, label, reason, author, active
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case removedAt = "removed_at"
    }
}

/// `POST /v1/silences`: what to silence (one of `school`, `probe`, `label`), until
/// when (`until`, RFC 3339, or `for`, a duration such as `4h`), and why.
public struct SilenceRequest: Codable, Sendable, Equatable {
    public var school: String?
    public var probe: String?
    public var label: String?
    public var until: String?
    public var duration: String?
    public var reason: String
    /// Who asks; `governor silence` sends the user and host.
    public var author: String?

    public init(school: String? = nil, probe: String? = nil, label: String? = nil, until: String? = nil, duration: String? = nil,
                reason: String, author: String? = nil) {
        self.school = school
        self.probe = probe
        self.label = label
        self.until = until
        self.duration = duration
        self.reason = reason
        self.author = author
    }

    enum CodingKeys: String, CodingKey {
        case school, probe, label, until, reason, author
        case duration = "for"
    }
}

/// `POST /v1/silences`'s answer: the silence, and what the operator should know of it
/// (a school closed by its calendar for the whole silence needs none).
public struct SilenceCreated: Codable, Sendable, Equatable {
    public var silence: SilenceView
    public var notes: [String]

    public init(silence: SilenceView, notes: [String]) {
        self.silence = silence
        self.notes = notes
    }
}

/// `GET /v1/silences`: those in force and to come, then those ended in the last day.
public struct SilenceList: Codable, Sendable, Equatable {
    public var silences: [SilenceView]

    public init(silences: [SilenceView]) {
        self.silences = silences
    }
}

/// An incident as the API shows it (`GET /v1/incidents`): many schools that went
/// DOWN together, told in one email instead of one per school.
public struct IncidentView: Codable, Sendable, Equatable {
    public var id: Int64
    /// `KEY=VALUE` (the label the schools share), or `fleet`.
    public var scope: String
    public var open: Bool
    public var openedAt: Instant
    /// When the first of its schools went down.
    public var since: Instant
    public var closedAt: Instant?
    /// Its schools, by name.
    public var schools: [String]
    /// After its close: the schools back (at the close or since).
    public var recovered: [String]
    /// After its close: the schools still DOWN.
    public var stillDown: [String]

    public init(_ incident: Incident) {
        id = incident.id ?? 0
        scope = incident.scope.description
        open = incident.isOpen
        openedAt = Instant(incident.openedAt)
        since = Instant(incident.since)
        closedAt = incident.closedAt.map(Instant.init)
        schools = incident.schools
        recovered = incident.recovered + incident.laterRecovered
        stillDown = incident.stillDown
    }

    enum CodingKeys: String, CodingKey {
        case id, scope, open, since, schools, recovered
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case stillDown = "still_down"
    }
}

/// `GET /v1/incidents`: the open ones, then those closed in the last week, newest first.
public struct IncidentList: Codable, Sendable, Equatable {
    public var incidents: [IncidentView]

    public init(incidents: [IncidentView]) {
        self.incidents = incidents
    }
}
