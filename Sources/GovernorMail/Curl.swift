import CCurl
import Foundation

/// Every call into libcurl, in one place: an SMTP submission or an HTTP request,
/// performed whole by `curl_easy_perform`.
///
/// `curl_easy_perform` blocks, so each transfer runs on a thread of its own, never on
/// the cooperative pool or an event loop; libcurl's own timeouts bound it.
struct CurlTransfer: Sendable {
    enum Kind: Sendable {
        /// Uploads ``CurlTransfer/body`` as the message from `from` to `recipients`.
        case smtp(from: String, recipients: [String], startTLS: SMTPTransport.StartTLS)
        /// A GET, or a POST of ``CurlTransfer/body`` when it is not empty. An answer of
        /// 400 or more is a failure; the answer's body is read and dropped.
        case http
    }

    var url: String
    var kind: Kind
    var body: [UInt8] = []
    /// Extra HTTP header lines (`Content-Type: application/json`).
    var headers: [String] = []
    var username: String?
    var password: String?
    var connectTimeoutSeconds = 15
    /// Bounds connecting and the whole exchange.
    var timeoutSeconds: Int

    /// Why a transfer failed: libcurl's own words, and the server's reply code if any.
    struct Failure: Error, Sendable {
        var reason: String
        var responseCode: Int
    }

    /// Performs the transfer on a thread of its own.
    func perform() async -> Result<Int, Failure> {
        let transfer = self
        return await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: transfer.performBlocking()) }
            thread.name = "curl"
            thread.start()
        }
    }

    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// - Returns: the server's reply code (SMTP or HTTP).
    private func performBlocking() -> Result<Int, Failure> {
        guard Self.globalInit == CURLE_OK, let curl = curl_easy_init() else {
            return .failure(Failure(reason: "libcurl could not be initialized", responseCode: 0))
        }
        defer { curl_easy_cleanup(curl) }
        let payload = PayloadReader(body)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(recipients) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        governor_curl_setopt_string(curl, CURLOPT_URL, url)
        // Signals are the process's business (systemd, ServiceLifecycle), never libcurl's.
        governor_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        governor_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, connectTimeoutSeconds)
        governor_curl_setopt_long(curl, CURLOPT_TIMEOUT, timeoutSeconds)
        governor_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)
        governor_curl_setopt_read_function(curl, PayloadReader.read)
        governor_curl_setopt_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(payload).toOpaque())
        governor_curl_setopt_write_function(curl, Self.discard)
        if let username { governor_curl_setopt_string(curl, CURLOPT_USERNAME, username) }
        if let password { governor_curl_setopt_string(curl, CURLOPT_PASSWORD, password) }
        switch kind {
        case .smtp(let from, let to, let startTLS):
            governor_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            for address in to { recipients = curl_slist_append(recipients, "<\(address)>") }
            governor_curl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(from)>")
            governor_curl_setopt_pointer(curl, CURLOPT_MAIL_RCPT, recipients)
            governor_curl_setopt_long(curl, CURLOPT_UPLOAD, 1)
            let useSSL: curl_usessl = switch startTLS {
            case .opportunistic: CURLUSESSL_TRY
            case .required: CURLUSESSL_ALL
            case .off: CURLUSESSL_NONE
            }
            governor_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(useSSL.rawValue))
        case .http:
            governor_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "http,https")
            governor_curl_setopt_long(curl, CURLOPT_FAILONERROR, 1)
            for header in headers { headerList = curl_slist_append(headerList, header) }
            if headerList != nil { governor_curl_setopt_pointer(curl, CURLOPT_HTTPHEADER, headerList) }
            if !body.isEmpty {
                governor_curl_setopt_long(curl, CURLOPT_POST, 1)
                governor_curl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, body.count)
            }
        }

        let code = withExtendedLifetime(payload) { curl_easy_perform(curl) }
        var response = 0
        governor_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &response)
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            return .failure(Failure(reason: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail, responseCode: response))
        }
        return .success(response)
    }

    /// CURLOPT_WRITEFUNCTION: an answer's body is not needed, and libcurl would
    /// otherwise write it to standard output.
    private static let discard: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { _, size, count, _ in
        size * count
    }
}

/// Feeds the body to libcurl's read callback.
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
