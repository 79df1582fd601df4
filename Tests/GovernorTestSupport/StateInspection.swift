package import GovernorCore
import GovernorPostgres
import GovernorSQLite
package import GovernorStore

/// What only the tests ask of a state: how many runs passed without a contact, the
/// outbox as it stands, a probe's latest result, the dispatch states, a probe's
/// stored runs, a result stored as it is. The governor
/// itself never asks, so these are not part of the storage interface; each backend
/// answers them at `package` level, for this package's tests alone.
package protocol StateInspection: Sendable {
    /// How many of the probe's runs in `(after, upTo]` passed without it; only runs
    /// generated before their time count (a window stored late cannot be missed).
    func runsWithoutContact(probe: String, after: UnixTime, upTo: UnixTime) async throws -> Int
    /// The probe's newest result, without its output.
    func latestResult(probe: String) async throws -> TestResult?
    /// Undelivered messages whose next attempt is due, oldest first, claimed or not.
    func dueOutboxMessages(at now: UnixTime, limit: Int) async throws -> [OutboxMessage]
    /// How many messages wait for delivery.
    func pendingOutboxCount() async throws -> Int
    /// The dispatch state of each run of `probe` in `[from, to)`.
    func dispatchStates(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime: DispatchState]
    /// The runs of `probe` in `[from, to)`, in time order.
    func runs(probe: String, from: UnixTime, before to: UnixTime) async throws -> [UnixTime]
    /// Stores a result as it is (no idempotency check) and returns it with its id.
    func insert(_ result: TestResult) async throws -> TestResult
    /// Forgets every measurement and puts the backfill before every stored result: the
    /// state as an upgrade finds a history stored before measurements existed.
    func rewindMeasurementBackfill() async throws
}

extension StateInspection {
    package func dueOutboxMessages(at now: UnixTime) async throws -> [OutboxMessage] {
        try await dueOutboxMessages(at: now, limit: 20)
    }
}

extension SQLiteState: StateInspection {}
extension PostgresState: StateInspection {}

extension ContactStore {
    /// This state's answers to the tests' own questions (every backend is a ``ContactStore``).
    package var inspection: any StateInspection {
        guard let inspectable = self as? any StateInspection else {
            fatalError("\(type(of: self)) is not a backend the tests know")
        }
        return inspectable
    }
}

/// The state file of a governor process the test has stopped.
public enum StateFile {
    /// Puts the SQLite state at `path` as an upgrade finds a history stored before
    /// measurements existed (``StateInspection/rewindMeasurementBackfill()``).
    public static func rewindMeasurementBackfill(sqlite path: String) async throws {
        let state = try SQLiteState.open(path: path)
        defer { try? state.close() }
        try await state.rewindMeasurementBackfill()
    }
}
