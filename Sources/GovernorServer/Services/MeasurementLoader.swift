import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Fills the ``MeasurementReadModel`` from the state at start-up, in the background,
/// a page at a time: the governor serves meanwhile (the standings are partial until
/// it is done, which the journal says).
struct MeasurementLoader: Service {
    let live: LiveConfiguration
    let database: any MeasurementStore
    let model: MeasurementReadModel
    let egress: EgressReadModel
    let logger: Logger
    var pageSize = 20_000
    var retryDelay: Duration = .seconds(10)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await load()
                break
            } catch {
                logger.warning("cannot read the stored measurements now (retrying in \(retryDelay)): \(error)")
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: retryDelay) }
            }
        }
        // A service that returns early would end the governor's service group.
        try? await gracefulShutdown()
    }

    private func load() async throws {
        let ceiling = try await database.lastMeasuredResultID()
        model.beginLoad(through: ceiling)
        var after: Int64 = 0
        var count = 0
        let snapshot = live.snapshot
        let settings = snapshot.governor.measurement
        let now = UnixTime(Date().timeIntervalSince1970)
        var windows: [String: (zone: TimeZone, firstDay: Int32)] = [:]
        for school in snapshot.configuration.schools {
            let today = LocalDate(containing: now, in: school.timeZone)
            windows[school.name] = (school.timeZone, Int32(clamping: school.windowStart(openDays: settings.windowDays, through: today).daysSinceEpoch))
        }
        while after < ceiling, !Task.isCancelled {
            let page = try await database.measurementPoints(after: after, through: ceiling, limit: pageSize)
            guard let last = page.last else { break }
            model.load(page, windows: windows)
            count += page.count
            after = last.resultID
        }
        model.finishLoad()
        if count > 0 { logger.info("read the stored measurements", metadata: ["measurements": "\(count)"]) }
        try await loadEgresses(now: now, through: ceiling)
    }

    /// The last day's measurements, oldest first, into the egress read model: the
    /// addresses the platform saw and the tests each carried. Those stored after
    /// `ceiling` the result recorder counted already.
    private func loadEgresses(now: UnixTime, through ceiling: Int64) async throws {
        var after: (ms: Int64, resultID: Int64)?
        let from = (now - 86_400) * 1000
        while !Task.isCancelled {
            let page = try await database.measurements(fromMs: from, beforeMs: (now + 1) * 1000, after: after, limit: 5_000)
            guard let last = page.last else { break }
            for stored in page where stored.resultID <= ceiling {
                egress.test(of: stored.probe, school: stored.school, measuredAddress: stored.measurement.clientIP, at: stored.measuredAtMs / 1000)
            }
            after = (last.measuredAtMs, last.resultID)
        }
    }
}
