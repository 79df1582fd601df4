import AsyncAlgorithms
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Keeps this governor's read models in step with the other governors on a shared
/// state: their probes' contacts (so that a probe that asks one governor and
/// reports to another is one probe that is up, in every view and for the judge)
/// their latest results and their measurements.
///
/// Once a second it reads what changed in the last ``overlapSeconds``: contact and
/// receipt times come from the governors' clocks, and rows commit a little after
/// they are stamped, so the overlap catches both; reading a row twice changes
/// nothing (contacts keep the newest, results the highest id).
struct SharedStateFollower: Service {
    let feed: any SharedStateFeed
    let contacts: ContactCache
    let latest: LatestResults
    let measurements: MeasurementReadModel
    let egress: EgressReadModel
    let live: LiveConfiguration
    let clock: ServerClock
    let logger: Logger

    static let overlapSeconds: UnixTime = 30

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            let since = clock.seconds - Self.overlapSeconds
            do {
                contacts.merge(try await feed.contacts(since: since))
                for result in try await feed.latestResults(receivedSince: since).values { latest.record(result) }
                let schools = live.snapshot.schools
                for stored in try await feed.measurements(receivedSince: since) {
                    guard let school = schools[stored.school],
                          measurements.recordFollowed(MeasurementPoint(stored), in: school.timeZone) else { continue }
                    egress.test(of: stored.probe, school: stored.school, measuredAddress: stored.measurement.clientIP, at: stored.measuredAtMs / 1000)
                }
            } catch {
                logger.warning("cannot read the other governors' contacts and results (retrying): \(error)")
            }
        }
    }
}

/// Tells the other governors on a shared state that this one lives: it renews its
/// presence lease every second, for ``PresenceLease/seconds``. Its push and email
/// claims count as held while the lease runs; afterwards another governor records
/// its push runs as interrupted and takes over its emails.
struct PresenceService: Service {
    let leases: any LeaseStore
    let instance: String
    let clock: ServerClock
    let logger: Logger

    func run() async throws {
        let name = PresenceLease.name(of: instance)
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            do {
                _ = try await leases.holdLease(name, holder: instance, seconds: PresenceLease.seconds, at: clock.seconds)
            } catch {
                logger.warning("cannot renew this governor's presence (retrying): \(error)")
            }
        }
    }
}
