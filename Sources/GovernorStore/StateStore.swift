public import GovernorCore

/// The governor's durable state, as the server sees it: every part, from whichever
/// backend the configuration names (``SQLiteState`` for an SQLite file, or
/// `PostgresState` for a PostgreSQL database that several governors share). The
/// server code never knows which one it talks to.
public typealias StateStore = ScheduleStore & ContactStore & ResultStore & MeasurementStore & AlertStore & DispatchStore & SourceStore & HealthStore & LeaseStore
    & SilenceStore & IncidentStore

/// When each probe was last heard from.
public protocol ContactStore: Sendable {
    /// Records the latest contact of each probe; an older time never replaces a newer one.
    func recordContacts(_ contacts: [String: UnixTime]) async throws
    /// Every probe's last contact.
    func contacts() async throws -> [String: UnixTime]
}

/// The outcomes of tests, from pull reports and push dispatches.
public protocol ResultStore: Sendable {
    /// Stores a result unless one with the same probe and idempotency key is stored
    /// already, and returns what is stored: the new result (`created`), or the first.
    func insertOnce(_ result: TestResult) async throws -> (result: TestResult, created: Bool)
    /// A probe's results, newest first.
    func results(probe: String, limit: Int) async throws -> [TestResult]
    /// A school's latest results with their output, newest first.
    func results(school: String, limit: Int) async throws -> [TestResult]
    /// How many results each of `probes` has sent since `instant` (probes without any are left out).
    func resultCounts(of probes: [String], since instant: UnixTime) async throws -> [String: Int]
    /// How many results `probe` has sent since `instant`.
    func resultCount(probe: String, since instant: UnixTime) async throws -> Int
    /// Each probe's newest result, without its output (which can be large).
    func latestResults() async throws -> [String: TestResult]
    /// The results of a school's runs in `[from, to)`, keyed by probe and run time; of
    /// several results of one run, the newest counts.
    func runResults(school: String, from: UnixTime, before to: UnixTime) async throws -> [RunResultKey: StoredRunResult]
    /// The results of one probe's runs in `[from, through]`, as ``runResults(school:from:before:)``.
    func runResults(probe: String, from: UnixTime, through: UnixTime) async throws -> [RunResultKey: StoredRunResult]
}

/// What each test measured, one row per result that has a measurement. A result's
/// measurement is written in the transaction that stores the result
/// (``TestResult/measurement``); results stored before measurements existed are read
/// once, in the background, by the backfill below.
public protocol MeasurementStore: Sendable {
    /// The measurements of the results `ids` (those that have one).
    func measurements(ofResults ids: [Int64]) async throws -> [Int64: SpeedMeasurement]
    /// A school's measurements taken in `[from, before)` (milliseconds), oldest first.
    func measurements(school: String, fromMs: Int64, beforeMs: Int64) async throws -> [StoredMeasurement]
    /// Up to `limit` measurements of every school taken in `[from, before)`
    /// (milliseconds), in time order, after the one at `after` (its time and result
    /// id; nil for the first page): the CSV export, a page at a time.
    func measurements(fromMs: Int64, beforeMs: Int64, after: (ms: Int64, resultID: Int64)?, limit: Int) async throws -> [StoredMeasurement]
    /// Up to `limit` measurements' points with result ids in `(after, through]`,
    /// ascending by result id: how the governor's read model is filled at start-up,
    /// a page at a time.
    func measurementPoints(after id: Int64, through last: Int64, limit: Int) async throws -> [MeasurementPoint]
    /// The highest result id that has a measurement; 0 for none.
    func lastMeasuredResultID() async throws -> Int64
    /// Where the backfill stands: the results after `next` and up to `last` are still
    /// to be read; nil when there are none (a fresh state, or the backfill is done).
    func measurementBackfill() async throws -> (after: Int64, last: Int64)?
    /// Up to `limit` results with ids in `(after, through]`, ascending, with their output.
    func results(after id: Int64, through last: Int64, limit: Int) async throws -> [TestResult]
    /// Stores `measurements` and moves the backfill from `after` to `to`, in one
    /// transaction, only if it still stands at `after`: false (and nothing stored)
    /// when another governor moved it first, so that every batch is read once.
    func advanceBackfill(from after: Int64, to: Int64, storing measurements: [StoredMeasurement]) async throws -> Bool
}

/// Missed-run alert states and the outbox of alert email.
public protocol AlertStore: Sendable {
    /// Every probe's stored alert state.
    func alertStates() async throws -> [String: ProbeAlertState]
    /// Writes changed alert states, forgets removed probes and queues messages, in one
    /// transaction: an alert is in the outbox if and only if its state change is stored.
    /// With `lease`, the transaction first checks that the lease is still held with
    /// that fencing number, and throws ``LeaseLost`` without writing when it is not.
    func saveAlerts(states: [String: (school: String, state: ProbeAlertState)], removing removed: Set<String>, queue messages: [OutboxMessage],
                    fencedBy lease: Lease?) async throws
    /// Queues `messages` whose Message-ID is not in the outbox yet, and returns how many
    /// it queued: a message made the same way by a governor that restarted, or by
    /// another governor, is sent once (the daily digest).
    func queueOnce(_ messages: [OutboxMessage]) async throws -> Int
    /// Each probe's runs in `(after, through]` stored before their time, ascending.
    func judgeableRuns(after: UnixTime, through: UnixTime) async throws -> [String: [UnixTime]]
    /// Claims up to `limit` due messages no living claim holds, for `holder`, for
    /// `seconds`: each message is sent by one governor at a time. A claim is taken
    /// over when it runs out, or at once when its governor is gone: with SQLite (one
    /// governor per file) any other holder's, with PostgreSQL one whose presence
    /// lease (``PresenceLease``) has run out. A governor killed in the middle of a
    /// send may thus have delivered the message, which is then sent again with the
    /// same Message-ID. ``markSent(_:at:)`` and ``markFailed(_:error:nextAttemptAt:)``
    /// end the claim.
    func claimOutboxMessages(at now: UnixTime, limit: Int, holder: String, seconds: Int64) async throws -> [OutboxMessage]
    func markSent(_ id: Int64, at now: UnixTime) async throws
    func markFailed(_ id: Int64, error: String, nextAttemptAt: UnixTime) async throws
    /// Undelivered alert email: how many wait, and how many of those failed at least once.
    func outboxBacklog() async throws -> (pending: Int, failing: Int)
    /// The oldest undelivered message that failed at least once: how long the outbox
    /// has failed to deliver, and its last error.
    func oldestFailingOutboxMessage() async throws -> OutboxMessage?
}

extension AlertStore {
    public func saveAlerts(states: [String: (school: String, state: ProbeAlertState)], removing removed: Set<String>, queue messages: [OutboxMessage]) async throws {
        try await saveAlerts(states: states, removing: removed, queue: messages, fencedBy: nil)
    }
}

/// Push runs as the dispatcher claims and finishes them.
public protocol DispatchStore: Sendable {
    /// The stored runs of `probes` in `[from, through]` that no dispatch has claimed, in time order.
    func undispatchedRuns(of probes: Set<String>, from: UnixTime, through: UnixTime) async throws -> [StoredRun]
    /// Claims a run for dispatch by `holder`; false when it was claimed before, in
    /// which case it must not be dispatched again.
    func claimDispatch(of run: StoredRun, at now: UnixTime, holder: String) async throws -> Bool
    /// Stores a dispatch's result and its final state in one transaction; with
    /// `claimIfNeeded`, a run not claimed yet is claimed in it (a skipped run).
    /// - Returns: the stored result; nil, storing nothing, when the run was finished
    ///   before: by another governor that recorded it as interrupted while this one
    ///   stalled past its presence lease. A claim's writes are fenced by its state.
    @discardableResult
    func finishDispatch(of run: StoredRun, as state: DispatchState, result: TestResult, at now: UnixTime, claimIfNeeded: Bool) async throws -> TestResult?
    /// Unfinished runs whose claim no living governor holds: with SQLite (one governor
    /// per file), every claim not `holder`'s; with PostgreSQL, the claims of governors
    /// whose presence lease (``PresenceLease``) has run out.
    func orphanedDispatches(holder: String) async throws -> [StoredRun]
    /// Records an orphaned run as interrupted, with `result`, unless another governor
    /// did first: true when this call did. The run is never dispatched again.
    func interruptOrphan(_ run: StoredRun, result: TestResult, holder: String, at now: UnixTime) async throws -> Bool
}

extension DispatchStore {
    public func claimDispatch(of run: StoredRun, at now: UnixTime) async throws -> Bool {
        try await claimDispatch(of: run, at: now, holder: "")
    }

    @discardableResult
    public func finishDispatch(of run: StoredRun, as state: DispatchState, result: TestResult, at now: UnixTime) async throws -> TestResult? {
        try await finishDispatch(of: run, as: state, result: result, at: now, claimIfNeeded: false)
    }
}

/// The last good text of each school file.
public protocol SourceStore: Sendable {
    /// The last text of each school file that loaded without errors.
    func schoolSources() async throws -> [String: String]
    /// Stores the texts of the school files that loaded without errors; unchanged ones are not rewritten.
    func saveSchoolSources(_ sources: [String: String], at now: UnixTime) async throws
}

/// What `/healthz` asks of the state.
public protocol HealthStore: Sendable {
    /// Writes a few kilobytes and commits them.
    func probeWrite(at now: UnixTime) async throws
}

/// Work only one governor may do at a time (the alert judgement): held for a few
/// seconds and renewed while its holder lives, taken over when it runs out. Each
/// new holding gets a higher fencing number, which the holder's writes carry, so a
/// holder that stalled past its lease cannot write over its successor's work.
public protocol LeaseStore: Sendable {
    /// Takes lease `name` for `holder` until `seconds` from now, or renews it; nil
    /// while another holder's lease runs. SQLite counts time by `now`; PostgreSQL by
    /// the database server's clock, the one clock every governor shares.
    func holdLease(_ name: String, holder: String, seconds: Int64, at now: UnixTime) async throws -> Lease?
}

/// A lease as held: its name, its holder, and the fencing number of this holding.
public struct Lease: Sendable, Equatable {
    public var name: String
    public var holder: String
    public var fencing: Int64

    public init(name: String, holder: String, fencing: Int64) {
        self.name = name
        self.holder = holder
        self.fencing = fencing
    }
}

/// A write fenced by a lease found the lease taken over: nothing was written.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var lease: Lease

    public init(_ lease: Lease) {
        self.lease = lease
    }

    public var description: String { "the lease '\(lease.name)' (fencing \(lease.fencing)) is no longer held by \(lease.holder)" }
}

/// The state cannot be reached now (its database server is down or does not answer
/// in time). Requests answer 503 with it, never a guess; the governor keeps trying
/// and carries on when the state is back.
public struct StateUnavailable: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// What other governors wrote to a shared state, for this governor's read models:
/// only a state several governors can share (PostgreSQL) offers it.
public protocol SharedStateFeed: Sendable {
    /// The contacts recorded at or after `instant`.
    func contacts(since instant: UnixTime) async throws -> [String: UnixTime]
    /// Each probe's newest result received at or after `instant`, without its output.
    func latestResults(receivedSince instant: UnixTime) async throws -> [String: TestResult]
    /// The measurements of the results received at or after `instant`, by any governor.
    func measurements(receivedSince instant: UnixTime) async throws -> [StoredMeasurement]
    /// The alert states that changed in the last `seconds` by the database's clock, the
    /// one clock the judge's writes and this read share.
    func alertStates(changedWithin seconds: Int64) async throws -> [String: ProbeAlertState]
}

/// The lease a governor renews while it lives, by which the others know that its
/// claims are held.
public enum PresenceLease {
    /// The prefix; PostgreSQL's `orphanedDispatches` joins on it.
    public static let prefix = "presence:"

    public static func name(of holder: String) -> String { prefix + holder }

    /// How long a presence lease runs after its last renewal (every second).
    public static let seconds: Int64 = 10
}

/// A whole state, read out for `governor migrate-state`: what PostgreSQL's import copies
/// from an SQLite file, in the order it copies it.
public protocol StateExport: ContactStore & SourceStore & SilenceStore & IncidentStore {
    func exportWindows() async throws -> [ExportedWindow]
    /// Results with an id above `id`, in id order, at most `limit`.
    func exportResults(after id: Int64, limit: Int) async throws -> [TestResult]
    func exportDispatches() async throws -> [DispatchRecord]
    /// Each probe's alert state as stored (JSON), with its school.
    func exportAlertStates() async throws -> [(probe: String, school: String, json: String)]
    func exportOutbox() async throws -> [OutboxMessage]
}

/// Quiet times for the built-in alerts, shared by every governor on the state.
public protocol SilenceStore: Sendable {
    /// Stores a new silence; it comes back with its id.
    func addSilence(_ silence: Silence) async throws -> Silence
    /// The silences that end (or ended) after `instant`: those in force, those to come,
    /// and those that ended since, in the order they were made.
    func silences(endedAfter instant: UnixTime) async throws -> [Silence]
    /// Ends a silence at `instant`; nil when no silence has the id or it has ended.
    func removeSilence(id: Int64, at instant: UnixTime) async throws -> Silence?
}

/// How a silence's matcher is stored: a kind and a target, in both backends.
public enum SilenceRow {
    public static func columns(of matcher: Silence.Matcher) -> (kind: String, target: String) {
        switch matcher {
        case .school(let name): ("school", name)
        case .probe(let name): ("probe", name)
        case .label(let label): ("label", label.description)
        }
    }

    /// Nil for a row whose kind this version does not know.
    public static func silence(id: Int64, kind: String, target: String, startsAt: Int64, endsAt: Int64, reason: String, author: String,
                               removedAt: Int64?) -> Silence? {
        let matcher: Silence.Matcher
        switch kind {
        case "school": matcher = .school(target)
        case "probe": matcher = .probe(target)
        case "label":
            guard case .success(let label) = SchoolLabels.parse(target) else { return nil }
            matcher = .label(label)
        default: return nil
        }
        return Silence(id: id, matcher: matcher, startsAt: startsAt, endsAt: endsAt, reason: reason, author: author, removedAt: removedAt)
    }
}

/// The incidents (``Incident``): opened and closed by the governor that judges,
/// listed by every governor.
public protocol IncidentStore: Sendable {
    /// Stores new incidents, or the later state of ones stored (by their ids), and
    /// queues the messages `queue` makes of them once stored (with their ids), in one
    /// transaction: an incident's email is in the outbox if and only if the step it
    /// tells of is stored. A message whose Message-ID is already in the outbox is not
    /// queued again. With `lease`, the transaction first checks that the lease is still
    /// held with that fencing number, and throws ``LeaseLost`` without writing when it
    /// is not, so two governors never both open one outage.
    /// - Returns: the incidents as stored, in the order given.
    func saveIncidents(_ incidents: [Incident], queue: @escaping @Sendable ([Incident]) -> [OutboxMessage], fencedBy lease: Lease?) async throws -> [Incident]
    /// The incidents open now, oldest first.
    func openIncidents() async throws -> [Incident]
    /// The incidents opened or closed at or after `instant`, and those open, newest first.
    func incidents(since instant: UnixTime) async throws -> [Incident]
}

extension IncidentStore {
    /// Stores one incident, without email and without a lease.
    public func saveIncident(_ incident: Incident) async throws -> Incident {
        try await saveIncidents([incident], queue: { _ in [] }, fencedBy: nil)[0]
    }
}

/// How an incident is stored in both backends: its scope as text, its lists as
/// newline-separated school names (a name holds no newline).
public enum IncidentRow {
    public static func scope(_ scope: Incident.Scope) -> String { scope.description }

    public static func scope(parsing text: String) -> Incident.Scope? {
        if text == "fleet" { return .fleet }
        guard case .success(let label) = SchoolLabels.parse(text) else { return nil }
        return .label(label)
    }

    public static func list(_ names: [String]) -> String { names.joined(separator: "\n") }

    public static func names(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
}
