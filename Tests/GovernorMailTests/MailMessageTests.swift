import Foundation
import Testing

@testable import GovernorMail

@Suite("Alert email as RFC 5322")
struct MailMessageTests {
    static let message = MailMessage(
        messageID: "alert-17@governor.example", date: Date(timeIntervalSince1970: 1_795_417_200),
        from: "Governor <governor@example.org>", to: ["noc@example.org", "it@riverside.example"],
        subject: "[governor] DOWN: probe riverside-1 of school riverside",
        body: "Probe riverside-1 missed 3 runs in a row.\n\nMissed runs:\n  07:05\r\n  07:25\n")

    /// The header block and the body of a rendered message.
    static func split(_ rendered: String) -> (headers: [String], body: String) {
        let parts = rendered.components(separatedBy: "\r\n\r\n")
        return (parts[0].components(separatedBy: "\r\n"), parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test func headersInOrder() {
        let (headers, _) = Self.split(Self.message.rendered)
        #expect(headers == [
            "Date: Mon, 23 Nov 2026 07:00:00 +0000",
            "Message-ID: <alert-17@governor.example>",
            "From: Governor <governor@example.org>",
            "To: noc@example.org, it@riverside.example",
            "Subject: [governor] DOWN: probe riverside-1 of school riverside",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ])
    }

    @Test("many recipients (an incident's schools) fold the To header into lines of at most 78 characters, every address kept")
    func manyRecipients() {
        var message = Self.message
        message.to = (0..<60).map { "school-\($0)-it@example.org" }
        let (headers, _) = Self.split(message.rendered)
        let start = headers.firstIndex { $0.hasPrefix("To: ") }
        #expect(start != nil)
        let folded = headers[(start ?? 0)...].prefix { $0.hasPrefix("To: ") || $0.hasPrefix(" ") }
        #expect(folded.count > 1 && folded.allSatisfy { $0.count <= 78 }, "\(folded)")
        let unfolded = folded.joined().dropFirst("To: ".count)
        #expect(unfolded.components(separatedBy: ", ") == message.to, "\(unfolded)")
        #expect(message.rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test("every line ends in CRLF, whatever the body used, and the message ends with one")
    func lineEnds() {
        let rendered = Self.message.rendered
        #expect(rendered.hasSuffix("\r\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(Self.split(rendered).body == "Probe riverside-1 missed 3 runs in a row.\r\n\r\nMissed runs:\r\n  07:05\r\n  07:25\r\n")
    }

    @Test("a non-ASCII subject is encoded, decodes to itself, and a long one is folded into lines of at most 76 characters")
    func encodedSubjects() throws {
        var message = Self.message
        message.subject = "[governor] DOWN: Città"
        let short = try #require(Self.split(message.rendered).headers.first { $0.hasPrefix("Subject: ") })
        #expect(short.hasPrefix("Subject: =?utf-8?B?") && Self.decode(short) == message.subject)

        message.subject = "[governor] DOWN: all 12 probes of school Scuola primaria statale «Giuseppe Garibaldi» di Città di Castello"
        let rendered = message.rendered
        let start = try #require(rendered.range(of: "Subject: "))
        let end = try #require(rendered.range(of: "\r\nMIME-Version"))
        let folded = String(rendered[start.lowerBound..<end.lowerBound])
        let lines = folded.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        let words = folded.dropFirst("Subject: ".count).split(whereSeparator: \.isWhitespace)
        #expect(words.allSatisfy { $0.utf8.count <= 75 && $0.hasPrefix("=?utf-8?B?") && $0.hasSuffix("?=") })
        #expect(Self.decode(folded) == message.subject)
    }

    @Test func datesAreUTC() {
        #expect(MailMessage.rfc5322Date(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MailMessage.rfc5322Date(Date(timeIntervalSince1970: 1_798_761_599)) == "Thu, 31 Dec 2026 23:59:59 +0000")
    }

    /// The text of a header's encoded words (RFC 2047, base64, UTF-8), joined as a reader shows them.
    static func decode(_ header: String) -> String {
        let value = header.drop { $0 != " " }.dropFirst()
        var bytes: [UInt8] = []
        for word in value.split(whereSeparator: \.isWhitespace) {
            guard word.hasPrefix("=?utf-8?B?"), word.hasSuffix("?="),
                  let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) else { return String(value) }
            bytes += data
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("a heartbeat's failure goes to URL/fail, before any query")
    func heartbeatFailURL() {
        #expect(HeartbeatPing.failURL(for: "https://hc-ping.com/0f4e6c1a") == "https://hc-ping.com/0f4e6c1a/fail")
        #expect(HeartbeatPing.failURL(for: "https://hc-ping.com/0f4e6c1a/") == "https://hc-ping.com/0f4e6c1a/fail")
        #expect(HeartbeatPing.failURL(for: "http://switch.example.org/ping/x?rid=7") == "http://switch.example.org/ping/x/fail?rid=7")
    }
}
