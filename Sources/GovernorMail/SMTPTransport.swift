import Foundation
import GovernorCore

/// SMTP through libcurl: `smtp://host:port` (STARTTLS as configured) or
/// `smtps://host:port` (TLS from the start), with optional login.
///
/// Each send is one ``CurlTransfer``, on a thread of its own.
public struct SMTPTransport: MailTransport {
    public enum StartTLS: String, Sendable, CaseIterable {
        /// Use STARTTLS when the server offers it (libcurl's CURLUSESSL_TRY).
        case opportunistic
        /// Refuse to send without TLS.
        case required
        /// Never use STARTTLS.
        case off
    }

    public var url: String
    public var startTLS: StartTLS
    public var username: String?
    public var password: String?
    /// Bounds connecting and the whole exchange.
    public var timeoutSeconds: Int

    public init(url: String, startTLS: StartTLS = .opportunistic, username: String? = nil, password: String? = nil, timeoutSeconds: Int = 60) {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.timeoutSeconds = timeoutSeconds
    }

    public var summary: String { url }

    public func send(_ message: MailMessage) async throws(MailError) {
        let transfer = CurlTransfer(url: url, kind: .smtp(from: MailboxAddress.address(message.from), recipients: message.to.map(MailboxAddress.address),
                                                           startTLS: startTLS),
                                    body: Array(message.rendered.utf8), username: username, password: password, timeoutSeconds: timeoutSeconds)
        if case .failure(let failure) = await transfer.perform() {
            throw MailError("\(url): \(failure.reason)\(failure.responseCode > 0 ? " (server replied \(failure.responseCode))" : "")")
        }
    }
}
