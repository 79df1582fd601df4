import CCurl
import Foundation
import GovernorCore
import Synchronization

/// SMTP through libcurl: `smtp://host:port` (STARTTLS as configured) or
/// `smtps://host:port` (TLS from the start), with optional login.
///
/// `curl_easy_perform` blocks, so each send runs on a thread of its own, never on
/// the cooperative pool or an event loop; libcurl's own timeouts bound it.
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
        let transport = self
        let outcome: Result<Void, MailError> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: transport.perform(message)) }
            thread.name = "smtp"
            thread.start()
        }
        try outcome.get()
    }

    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// One SMTP transaction, blocking.
    private func perform(_ message: MailMessage) -> Result<Void, MailError> {
        guard Self.globalInit == CURLE_OK, let curl = curl_easy_init() else {
            return .failure(MailError("libcurl could not be initialized"))
        }
        defer { curl_easy_cleanup(curl) }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in message.to {
            recipients = curl_slist_append(recipients, "<\(MailboxAddress.address(address))>")
        }
        defer { curl_slist_free_all(recipients) }
        let payload = PayloadReader(Array(message.rendered.utf8))
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        governor_curl_setopt_string(curl, CURLOPT_URL, url)
        governor_curl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(MailboxAddress.address(message.from))>")
        governor_curl_setopt_pointer(curl, CURLOPT_MAIL_RCPT, recipients)
        governor_curl_setopt_long(curl, CURLOPT_UPLOAD, 1)
        governor_curl_setopt_read_function(curl, PayloadReader.read)
        governor_curl_setopt_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(payload).toOpaque())
        // Signals are the process's business (systemd, ServiceLifecycle), never libcurl's.
        governor_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        governor_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, 15)
        governor_curl_setopt_long(curl, CURLOPT_TIMEOUT, timeoutSeconds)
        governor_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)
        let useSSL: curl_usessl = switch startTLS {
        case .opportunistic: CURLUSESSL_TRY
        case .required: CURLUSESSL_ALL
        case .off: CURLUSESSL_NONE
        }
        governor_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(useSSL.rawValue))
        if let username { governor_curl_setopt_string(curl, CURLOPT_USERNAME, username) }
        if let password { governor_curl_setopt_string(curl, CURLOPT_PASSWORD, password) }

        let code = withExtendedLifetime(payload) { curl_easy_perform(curl) }
        guard code == CURLE_OK else {
            var response = 0
            governor_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &response)
            let detail = String(cString: errorBuffer)
            let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            return .failure(MailError("\(url): \(reason)\(response > 0 ? " (server replied \(response))" : "")"))
        }
        return .success(())
    }
}

/// Feeds the rendered message to libcurl's read callback.
private final class PayloadReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    static let read: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let reader = Unmanaged<PayloadReader>.fromOpaque(context).takeUnretainedValue()
        let room = size * count
        let length = min(room, reader.bytes.count - reader.offset)
        guard length > 0 else { return 0 }
        reader.bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + reader.offset, byteCount: length)
        }
        reader.offset += length
        return length
    }
}
