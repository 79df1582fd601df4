import AsyncAlgorithms
import Foundation
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle

/// Sends the daily digest of schools below their target (`[Alerts] below_target_days`)
/// at `digest_at` in the governor's zone: one email per recipient with the schools
/// newly below, recovered and still below (``BelowTargetDigest``), never one per
/// school per day.
///
/// Each message's Message-ID is made of the date and the recipient, and the outbox
/// takes a Message-ID once (``AlertStore/queueOnce(_:)``): a governor restarted after
/// `digest_at`, or several governors on one state, queue each digest once.
struct BelowTargetDigestService: Service {
    let live: LiveConfiguration
    let measurements: MeasurementReadModel
    let database: any AlertStore
    let clock: ServerClock
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        var sentFor: LocalDate?
        // The digest speaks of every school's measurements: it waits for them to be read.
        while !measurements.isLoaded && !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
        await tick(&sentFor)
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await tick(&sentFor)
        }
    }

    private func tick(_ sentFor: inout LocalDate?) async {
        let snapshot = live.snapshot
        let alerts = snapshot.governor.alertSettings
        guard let days = alerts.belowTargetDays, alerts.canSend, let from = alerts.from, measurements.isLoaded else { return }
        let now = clock.seconds
        let zone = snapshot.governor.timeZone
        let today = LocalDate(containing: now, in: zone)
        guard sentFor != today, now >= SchoolClock.instant(of: alerts.digestAt, on: today, in: zone) else { return }
        let messages = Self.messages(configuration: snapshot.configuration, days: days, from: from, measurements: measurements, today: today, now: now)
        do {
            let queued = try await database.queueOnce(messages)
            sentFor = today
            logger.info("the daily digest of schools below target is queued", metadata: [
                "date": "\(today)", "messages": "\(messages.count)", "new": "\(queued)",
            ])
        } catch {
            logger.warning("cannot queue the daily digest of schools below target (retrying): \(error)")
        }
    }

    /// One message per recipient with anything to say.
    static func messages(configuration: Configuration, days: Int, from: String, measurements: MeasurementReadModel, today: LocalDate,
                         now: UnixTime) -> [OutboxMessage] {
        let alerts = configuration.governor.alertSettings
        let settings = configuration.governor.measurement
        var lines: [String: [BelowTargetDigest.Change: [String]]] = [:]
        for school in configuration.schools {
            let medians = measurements.dailyDownloadMedians(of: school)
            let target = school.target(settings)
            let yesterday = LocalDate(containing: now, in: school.timeZone).adding(days: -1)
            guard let change = BelowTargetDigest.change(dailyMedians: medians, calendar: school.calendar, targetMbps: target.downloadMbps,
                                                        days: days, yesterday: yesterday) else { continue }
            let last = medians.filter { $0.key <= yesterday && school.calendar.isOpen(on: $0.key) }.max { $0.key < $1.key }
            var line = "  \(school.name): "
            line += last.map { "median \(SchoolTarget.format($0.value)) Mbit/s on \($0.key)" } ?? "no measurement"
            line += ", target \(SchoolTarget.format(target.downloadMbps)) Mbit/s (\(target.source.rawValue))"
            if let url = configuration.governor.publicURL {
                line += "\n    " + (url.hasSuffix("/") ? url : url + "/") + "schools/" + school.name
            }
            for recipient in alerts.recipients(adding: school.alertTo) {
                lines[recipient, default: [:]][change, default: []].append(line)
            }
        }
        let domain = MailboxAddress.domain(from)
        return lines.keys.sorted().compactMap { recipient in
            guard let changes = lines[recipient] else { return nil }
            let newly = changes[.newlyBelow] ?? [], recovered = changes[.recovered] ?? [], still = changes[.stillBelow] ?? []
            let subject = "[governor] below target: \(newly.count) new, \(recovered.count) recovered, \(still.count) still below (\(today))"
            var body = "Schools whose daily median download was below their target on \(days) open day(s) in a row,\n"
                + "as of the last complete day (each school's own date).\n"
            for (title, entries) in [("Newly below", newly), ("Recovered", recovered), ("Still below", still)] where !entries.isEmpty {
                body += "\n\(title) (\(entries.count)):\n" + entries.joined(separator: "\n") + "\n"
            }
            let key = ProbeToken.sha256Hex(recipient.lowercased()).prefix(16)
            return OutboxMessage(messageId: "digest-\(today)-\(key)@\(domain)", sender: from, recipients: [recipient], subject: subject, body: body,
                                 createdAt: now)
        }
    }
}
