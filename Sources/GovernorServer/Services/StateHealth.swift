import Foundation
import GovernorCore
import GovernorStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Whether the state database can take the governor's writes, as `/healthz` reports it.
///
/// Each check makes a real write of a few kilobytes (committed, so a full disk or a
/// read-only file system refuses it) and asks the file system for the free space
/// of the state's directory; below ``minimumFreeBytes`` the database would fail its
/// next growth. The answer is kept for ``cacheSeconds``, so a load balancer polling
/// `/healthz` many times a second costs one write every few seconds. Nothing needs
/// resetting: the first check after space returns answers healthy again.
final class StateHealth: Sendable {
    static let cacheSeconds: Double = 2
    static let minimumFreeBytes: UInt64 = 1 << 20
    /// How long the check's write may take before `/healthz` answers 503 without it:
    /// a PostgreSQL that accepts connections and answers nothing must not hang a load
    /// balancer's health check.
    static let writeDeadline: Duration = .seconds(2)

    private let database: any HealthStore
    private let outages: StateOutageLog
    /// The SQLite file whose file system's free space is checked; nil for PostgreSQL,
    /// whose server watches its own disk.
    private let statePath: String?
    private let description: String
    private let clock: ServerClock
    private let last = Mutex<(at: Double, problem: String?)?>(nil)

    init(database: any HealthStore, outages: StateOutageLog, statePath: String?, description: String, clock: ServerClock) {
        self.database = database
        self.outages = outages
        self.statePath = statePath
        self.description = description
        self.clock = clock
    }

    /// Nil when the state takes writes; otherwise what is wrong, for the 503's message.
    func problem() async -> String? {
        let now = clock.now()
        if let cached = last.withLock({ $0 }), now - cached.at < Self.cacheSeconds { return cached.problem }
        let problem = await check(now: now)
        last.withLock { $0 = (now, problem) }
        return problem
    }

    private func check(now: Double) async -> String? {
        var stats = statvfs()
        if let statePath, case let directory = (statePath as NSString).deletingLastPathComponent,
           statvfs(directory.isEmpty ? "." : directory, &stats) == 0 {
            let free = UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
            if free < Self.minimumFreeBytes {
                return "the file system of the state database \(statePath) has \(free) bytes free; free some space"
            }
        }
        let database = self.database, at = UnixTime(now.rounded(.down))
        do {
            try await Deadline.race({ try await database.probeWrite(at: at) }, against: Self.writeDeadline) {
                StateUnavailable("no answer within \(Self.writeDeadline)")
            }
            outages.succeeded()
            return nil
        } catch {
            return "the state database \(description) does not accept writes: \(error)"
        }
    }
}
