public import Foundation

/// A plain-text email, rendered as RFC 5322 with UTF-8 body and headers.
public struct MailMessage: Sendable, Equatable {
    public var messageID: String
    public var date: Date
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String

    /// - Parameter messageID: without angle brackets, e.g. `alert-17@governor.example`;
    ///   it stays the same when a message is sent again, so duplicates are recognisable.
    public init(messageID: String, date: Date, from: String, to: [String], subject: String, body: String) {
        self.messageID = messageID
        self.date = date
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
    }

    /// The message as sent: CRLF line ends, headers folded to stay short, the body in
    /// UTF-8 (8bit, which every SMTP server the governor will meet announces).
    public var rendered: String {
        var lines = [
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "From: \(from)",
            Self.addressHeader("To", to),
            "Subject: \(Self.encodedHeader(subject))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
            "",
        ]
        let normalized = body.replacing("\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        lines += normalized.map(String.init)
        var text = lines.joined(separator: "\r\n")
        if !text.hasSuffix("\r\n") { text += "\r\n" }
        return text
    }

    /// `To: a@x, b@y, …`, folded before an address that would take the line past 78
    /// characters: an incident's email goes to many schools' `alert_to`, and a line
    /// longer than 998 characters is refused by SMTP servers (RFC 5322 §2.1.1).
    static func addressHeader(_ name: String, _ addresses: [String]) -> String {
        var header = "\(name): "
        var line = header.count
        for (index, address) in addresses.enumerated() {
            let piece = address + (index < addresses.count - 1 ? "," : "")
            if index > 0 {
                if line + 1 + piece.count > 78 {
                    header += "\r\n "
                    line = 1
                } else {
                    header += " "
                    line += 1
                }
            }
            header += piece
            line += piece.count
        }
        return header
    }

    /// `Mon, 23 Nov 2026 07:00:00 +0000`
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// ASCII as is; anything else as RFC 2047 encoded words (base64, UTF-8).
    ///
    /// A line holding encoded words may be at most 76 characters (RFC 2047 §2), so a
    /// long text is cut into words of at most 36 bytes (60 characters encoded, 69
    /// with "Subject: "), at character boundaries (a word must hold whole
    /// characters), one per line of a folded header.
    static func encodedHeader(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        let maxBytes = 36
        var words: [[UInt8]] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(character.utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > maxBytes {
                words.append(chunk)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?utf-8?B?\(Data($0).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}

/// A message could not be handed over; the text is the server's or the program's answer.
public struct MailError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A way to hand a message to the mail system.
public protocol MailTransport: Sendable {
    /// Returns once the server (or the local MTA) has accepted the message.
    func send(_ message: MailMessage) async throws(MailError)
    /// What it sends through, for logs: `smtp://mail.example:587`, `/usr/sbin/sendmail`.
    var summary: String { get }
}
