import Foundation

/// `[Alerts]` of `governor.cfg`: when a probe counts as DOWN and where the email goes.
public struct AlertSettings: Sendable, Equatable {
    public enum StartTLS: String, Sendable, CaseIterable {
        case opportunistic, required, off
    }

    /// `smtp://host:port` or `smtps://host:port`.
    public var smtpURL: String?
    public var startTLS: StartTLS = .opportunistic
    public var username: String?
    /// Resolved against the directory of `governor.cfg`; the password is never inline.
    public var passwordFile: String?
    public var from: String?
    public var to: [String] = []
    /// The local MTA, instead of SMTP.
    public var sendmail: String?
    /// Added to the school's test duration: how long after a run time a contact still counts.
    public var graceSeconds = 60
    public var missedRuns = 3
    /// Reminder interval while DOWN; nil (the default) sends none.
    public var repeatSeconds: Int?
    /// Cap of the outbox's exponential backoff.
    public var retryMaxSeconds = 86_400
    /// A dead man's switch to call while the governor is healthy (`http://` or `https://`).
    public var heartbeatURL: String?
    public var heartbeatIntervalSeconds = 60
    /// How long the outbox may fail to deliver before the heartbeat calls `URL/fail`.
    public var heartbeatFailAfterSeconds = 900
    /// `below_target_days`: a school whose daily median was below its target on this
    /// many consecutive open days is in the daily digest; nil (the default): no digest.
    public var belowTargetDays: Int?
    /// `digest_at`: when the daily digest is sent, in the governor's time zone.
    public var digestAt = TimeOfDay(secondsSinceMidnight: 7 * 3600)!
    /// `alertmanager`: the base URLs of the Alertmanagers every alert is also posted to.
    public var alertmanagers: [String] = []
    /// `incident_*`: when schools down together are one incident.
    public var incidents = IncidentSettings()

    public init() {}

    /// Who gets a school's alerts: `to`, then the school's `alert_to` not already in it.
    public func recipients(adding schoolRecipients: [String]) -> [String] {
        to + schoolRecipients.filter { !to.contains($0) }
    }

    /// Whether alerts can be delivered at all: a transport, a sender and recipients.
    public var canSend: Bool {
        (smtpURL != nil || sendmail != nil) && from != nil
    }
}

/// Mailbox syntax: `Name <addr@example.org>` or a bare address.
public enum MailboxAddress {
    /// The bare address of a mailbox.
    public static func address(_ mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close {
            return String(mailbox[mailbox.index(after: open)..<close])
        }
        return mailbox.trimmingCharacters(in: .whitespaces)
    }

    /// The domain of a mailbox's address, for Message-IDs the governor makes itself
    /// (`digest-…@example.org`); `governor.invalid` when it has none.
    public static func domain(_ mailbox: String) -> String {
        address(mailbox).split(separator: "@").last.map(String.init) ?? "governor.invalid"
    }
}
