import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Reads the results stored before measurements existed, once, so that a school's
/// history starts full after an upgrade.
///
/// It runs beside everything else and never before it: it waits a little after
/// start (the first scheduling pass and the first requests come first), reads a
/// small batch at a time with a pause between, and owes the watchdog nothing. Its
/// position is in the state, moved in the transaction that stores a batch's
/// measurements and only from where it was read (``MeasurementStore/advanceBackfill(from:to:storing:)``):
/// a governor stopped halfway resumes there, and of several governors on one
/// PostgreSQL state each batch is read by one.
///
/// An old result is read with its school's `result_format` of today. Only results
/// that ran and exited 0 are read, and only a measurement is taken from them: a
/// stored run never changes its outcome.
struct MeasurementBackfill: Service {
    let live: LiveConfiguration
    let database: any MeasurementStore
    let measurements: MeasurementReadModel
    let logger: Logger
    var startDelay: Duration = .seconds(5)
    var batchSize = 200
    var pause: Duration = .milliseconds(20)
    var retryDelay: Duration = .seconds(30)

    func run() async throws {
        try? await gracefulSleep(startDelay)
        // The read model's load first: what the backfill stores then is counted there once.
        while !measurements.isLoaded && !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await gracefulSleep(.seconds(1))
        }
        var read = 0
        var measured = 0
        var announced = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                guard let (after, last) = try await database.measurementBackfill() else { break }
                if !announced {
                    announced = true
                    logger.info("reading the results stored before measurements existed, in the background", metadata: ["through_result_id": "\(last)"])
                }
                let batch = try await database.results(after: after, through: last, limit: batchSize)
                let to = batch.last?.id ?? last
                let found = Self.measurements(of: batch, format: live.snapshot.resultFormat(of:))
                if try await database.advanceBackfill(from: after, to: to, storing: found) {
                    read += batch.count
                    measured += found.count
                    let schools = live.snapshot.schools
                    for stored in found {
                        guard let zone = schools[stored.school]?.timeZone else { continue }
                        measurements.recordBackfilled(MeasurementPoint(stored), in: zone)
                    }
                }
                try? await gracefulSleep(pause)
            } catch {
                logger.warning("cannot read the stored results for measurements now (retrying in \(retryDelay)): \(error)")
                try? await gracefulSleep(retryDelay)
            }
        }
        if announced && !Task.isCancelled {
            logger.info("read the results stored before measurements existed", metadata: ["results": "\(read)", "measurements": "\(measured)"])
        }
        // A service that returns early would end the governor's service group.
        try? await gracefulShutdown()
    }

    /// Sleeps `duration`, or less when the governor stops.
    private func gracefulSleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    /// The measurements of `results` that ran, exited 0 and hold one, as their
    /// school's format reads them.
    static func measurements(of results: [TestResult], format: (String) -> ResultFormat) -> [StoredMeasurement] {
        results.compactMap { result in
            guard result.failure == nil, result.exitCode == 0, result.measurement == nil else { return nil }
            var measured = result
            measured.measurement = MeasurementReader.read(result.output, format: format(result.school)).measurement
            return measured.storedMeasurement
        }
    }
}
