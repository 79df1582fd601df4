import AsyncAlgorithms
import Foundation
public import GovernorCore
public import GovernorMail
import GovernorStore
import Logging
import ServiceLifecycle

/// Delivers the outbox: each message is claimed by one governor, and marked sent only after the server accepted it;
/// a failure is retried with exponential backoff (5 s, 10 s, 20 s… up to
/// `[Alerts] retry_max`, default 24 h). Sending never holds up the scheduler or the API.
struct OutboxSender: Service {
    let live: LiveConfiguration
    let database: any AlertStore
    let metrics: GovernorMetrics
    let clock: ServerClock
    let logger: Logger
    /// This governor among those sharing the state: the holder of its claims.
    let instance: String
    /// How long a claim keeps other governors off a message: a send (with libcurl's
    /// own timeouts) ends well within it. A claim of a governor that died is taken
    /// over sooner, when its presence lease runs out.
    static let claimSeconds: Int64 = 300
    static let claimBatch = 5

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            await deliverDue()
        }
    }

    func deliverDue() async {
        let settings = live.snapshot.governor.alertSettings
        let due: [OutboxMessage]
        do {
            due = try await database.claimOutboxMessages(at: clock.seconds, limit: Self.claimBatch, holder: instance, seconds: Self.claimSeconds)
        } catch {
            logger.error("cannot read the alert outbox: \(error)")
            return
        }
        guard !due.isEmpty else { return }
        let transport: any MailTransport
        do {
            transport = try AlertTransport.make(settings)
        } catch {
            logger.error("\(error.message); \(due.count) alert(s) wait in the outbox")
            return
        }
        for message in due {
            guard let id = message.id else { continue }
            let mail = MailMessage(messageID: message.messageId, date: Date(timeIntervalSince1970: TimeInterval(message.createdAt)),
                                   from: message.sender, to: message.recipientList, subject: message.subject, body: message.body)
            do {
                try await transport.send(mail)
                try await database.markSent(id, at: clock.seconds)
                logger.info("alert delivered", metadata: ["subject": "\(message.subject)", "via": "\(transport.summary)"])
            } catch let error as MailError {
                metrics.outboxDeliveryFailed()
                let delay = OutboxBackoff.seconds(afterAttempts: message.attempts + 1, cap: settings.retryMaxSeconds)
                try? await database.markFailed(id, error: error.message, nextAttemptAt: clock.seconds + UnixTime(delay))
                logger.warning("alert not delivered, retrying in \(delay) s: \(error.message)", metadata: ["subject": "\(message.subject)"])
            } catch {
                logger.error("cannot record an alert's delivery: \(error)")
            }
        }
    }

}

/// How long the outbox waits before trying a message again.
public enum OutboxBackoff {
    /// 5 s after the first failure, doubling, at most `cap`.
    public static func seconds(afterAttempts attempts: Int, cap: Int) -> Int {
        let exponent = min(max(attempts - 1, 0), 20)
        return min(5 << exponent, cap)
    }
}

/// The configured way to send alert email.
public enum AlertTransport {
    public static func make(_ settings: AlertSettings) throws(MailError) -> any MailTransport {
        if let sendmail = settings.sendmail { return SendmailTransport(path: sendmail) }
        guard let url = settings.smtpURL else {
            throw MailError("[Alerts] names no transport: set 'smtp' (smtp://HOST:PORT) or 'sendmail'")
        }
        var password: String?
        if let file = settings.passwordFile {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw MailError("cannot read [Alerts] password_file \(file): \(error.localizedDescription)")
            }
        }
        let startTLS = SMTPTransport.StartTLS(rawValue: settings.startTLS.rawValue) ?? .opportunistic
        return SMTPTransport(url: url, startTLS: startTLS, username: settings.username, password: password, timeoutSeconds: 20)
    }
}
