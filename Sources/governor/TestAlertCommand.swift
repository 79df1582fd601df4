import ArgumentParser
import Foundation
import GovernorCore
import GovernorMail
import GovernorServer

/// `governor test-alert`: send one email through the configured transport.
struct TestAlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-alert",
        abstract: "Send one test email through [Alerts] and report success or the server's error.",
        discussion: "Goes to [Alerts] to (and, with --school, that school's alert_to). Exits 0 when the server accepted it."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Also send to this school's alert_to.")
    var school: String?

    func run() async throws {
        let configuration = try options.load()
        let settings = configuration.governor.alertSettings
        var schoolRecipients: [String] = []
        if let school {
            guard let found = configuration.school(named: school) else {
                StandardError.print("no school named '\(school)' in \(options.config)")
                throw ExitCode(1)
            }
            schoolRecipients = found.alertTo
        }
        let recipients = settings.recipients(adding: schoolRecipients)
        guard let from = settings.from, !recipients.isEmpty else {
            StandardError.print("[Alerts] in \(options.config) needs 'from' and 'to' (or a school's alert_to) to send a test")
            throw ExitCode(1)
        }
        let host = ProcessInfo.processInfo.hostName
        let message = MailMessage(
            messageID: "test-\(UUID().uuidString.lowercased())@\(host)", date: Date(), from: from, to: recipients,
            subject: "[governor] test alert from \(host)",
            body: "This is a test of the governor's alert email, sent by 'governor test-alert'.\nIf you read this, missed-run alerts will reach you.\n")
        do {
            let transport = try AlertTransport.make(settings)
            try await transport.send(message)
            print("sent to \(recipients.joined(separator: ", ")) via \(transport.summary)")
        } catch {
            StandardError.print("not sent: \(error.message)")
            throw ExitCode(1)
        }
    }
}
