import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a test's output into a ``SpeedMeasurement``: the one place that knows the
/// tools' formats. Pure: the output and the school's `result_format` in, a reading out.
public enum MeasurementReader {
    /// Reads `output` as `format` says.
    ///
    /// - An explicit format that cannot read the output gives ``MeasurementReading/unreadable(_:)``.
    /// - `auto` tries ndt7, then iperf3, then the plain JSON object, and gives
    ///   ``MeasurementReading/unrecognised`` when none of them reads the output: a
    ///   custom script's text output is not a failure.
    public static func read(_ output: String, format: ResultFormat) -> MeasurementReading {
        switch format {
        case .none:
            return .unrecognised
        case .ndt7, .iperf3, .json:
            switch reader(for: format)(output) {
            case .reading(let reading): return reading
            case .notThisFormat(let why): return .unreadable(why)
            }
        case .auto:
            for format in [ResultFormat.ndt7, .iperf3, .json] {
                switch reader(for: format)(output) {
                case .reading(.unreadable): return .unrecognised
                case .reading(let reading): return reading
                case .notThisFormat: continue
                }
            }
            return .unrecognised
        }
    }

    enum Verdict {
        /// The output is in this format: what it says (possibly that it is broken).
        case reading(MeasurementReading)
        /// The output is not in this format at all.
        case notThisFormat(String)
    }

    private static func reader(for format: ResultFormat) -> (String) -> Verdict {
        switch format {
        case .iperf3: IPerf3Report.read
        case .json: PlainMeasurement.read
        default: NDT7Output.read
        }
    }

    // MARK: - What the readers share

    /// A failure message that says the platform refused the client for its rate:
    /// HTTP 429 from M-Lab's locate service or a server, in any tool's words.
    static func isRateLimit(_ message: String) -> Bool {
        let lower = message.lowercased()
        return lower.contains("429") || lower.contains("too many requests") || lower.contains("rate limit") || lower.contains("ratelimit")
    }

    static func failure(_ message: String) -> MeasurementReading {
        let trimmed = String(message.prefix(maxMessageCharacters))
        return isRateLimit(message) ? .rateLimited(trimmed) : .toolFailed(trimmed)
    }

    /// The most of a tool's message that is kept with the run.
    static let maxMessageCharacters = 500

    /// The largest figures taken: beyond them a value is a tool's bug, not a measurement.
    static let maxMbps = 10_000_000.0
    static let maxMilliseconds = 3_600_000.0

    /// `value` checked for `field`: a finite number from 0 to `limit`.
    static func checked(_ value: Double?, _ field: String, limit: Double) throws(UnreadableOutput) -> Double? {
        guard let value else { return nil }
        guard value.isFinite, value >= 0, value <= limit else {
            throw UnreadableOutput("\(field) is \(value); expected a number from 0 to \(limit.formatted(.number.grouping(.never)))")
        }
        return value
    }

    /// A text field, cut to a sane length, nil when empty.
    static func text(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return String(value.prefix(255))
    }

    /// Whether `text` holds `needle`, compared byte by byte. Foundation's
    /// `contains` goes through NSString on Linux: it was a fifth of the intake's time.
    static func has(_ text: Substring, _ needle: StaticString) -> Bool {
        let count = needle.utf8CodeUnitCount
        guard count > 0 else { return true }
        let found = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let base = bytes.baseAddress, bytes.count >= count else { return false }
            // memchr to each candidate first byte, memcmp for the rest: glibc's vector code does the scanning.
            let first = Int32(needle.utf8Start.pointee)
            var offset = 0
            let last = bytes.count - count
            while offset <= last {
                guard let hit = memchr(base + offset, first, last - offset + 1) else { return false }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if memcmp(base + at, needle.utf8Start, count) == 0 { return true }
                offset = at + 1
            }
            return false
        }
        // A bridged string without contiguous UTF-8: the slow way, still correct.
        return found ?? text.contains(String(decoding: UnsafeBufferPointer(start: needle.utf8Start, count: count), as: UTF8.self))
    }

    static func has(_ text: String, _ needle: StaticString) -> Bool {
        has(text[...], needle)
    }

    /// `text` without the spaces, tabs and line ends around it, by its bytes.
    static func trimmed(_ text: String) -> Substring {
        let utf8 = text.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let start = utf8.firstIndex(where: { !isSpace($0) }), let end = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[start...end]
    }

    /// The first and the last lines of `output` that are not blank.
    static func firstAndLastLines(of output: String) -> (first: Substring, last: Substring)? {
        let text = trimmed(output)
        guard !text.isEmpty else { return nil }
        let utf8 = text.utf8
        let firstEnd = utf8.firstIndex(of: UInt8(ascii: "\n")) ?? utf8.endIndex
        let lastStart = utf8.lastIndex(of: UInt8(ascii: "\n")).map { utf8.index(after: $0) } ?? utf8.startIndex
        return (text[..<firstEnd], text[lastStart...])
    }

    /// The lines of `output` that are not blank, split on its bytes (an ndt7 run's
    /// output is a thousand lines; reading it as characters would cost more).
    static func lines(of output: String) -> [Substring] {
        output.utf8.split(separator: UInt8(ascii: "\n")).compactMap { bytes in
            let line = Substring(bytes)
            guard !line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else { return nil }
            return line
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: some StringProtocol) -> Result<T, UnreadableOutput> {
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(text.utf8)))
        } catch let error as DecodingError {
            return .failure(UnreadableOutput(describing: error))
        } catch {
            return .failure(UnreadableOutput("not JSON: \(error)"))
        }
    }
}

/// Why an output in a recognised format could not be read.
struct UnreadableOutput: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    init(describing error: DecodingError) {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the output" : "'" + keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch error {
        case .typeMismatch(let type, let context): message = "\(path(context)) is not \(Self.name(of: type))"
        case .valueNotFound(let type, let context): message = "\(path(context)) is null; expected \(Self.name(of: type))"
        case .keyNotFound(let key, let context): message = "\(path(context)) has no '\(key.stringValue)'"
        case .dataCorrupted(let context): message = context.codingPath.isEmpty ? "not JSON" : "\(path(context)) is malformed"
        @unknown default: message = "not readable"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int.Type: "a number"
        case is String.Type: "a string"
        default: "of the expected kind"
        }
    }
}

// MARK: - ndt7

/// ndt7-client's `-format=json`: one JSON object per line, events (`starting`,
/// `connected`, `measurement`, `error`, `complete`) and, last, the summary with
/// `ServerFQDN`, `ServerIP`, `ClientIP`, `Download` and `Upload`. Each figure is a
/// `{"Value", "Unit"}` pair; the unit is honoured, and a pair with neither (Go's
/// zero value, as the upload's `Retransmission`) is absent.
enum NDT7Output {
    struct Event: Decodable {
        var key: String
        var value: Value?

        struct Value: Decodable {
            var test: String?
            var failure: String?
            enum CodingKeys: String, CodingKey { case test = "Test", failure = "Failure" }
        }

        enum CodingKeys: String, CodingKey { case key = "Key", value = "Value" }
    }

    struct Summary: Decodable {
        var serverFQDN: String?
        var serverIP: String?
        var clientIP: String?
        var download: Subtest?
        var upload: Subtest?

        enum CodingKeys: String, CodingKey {
            case serverFQDN = "ServerFQDN", serverIP = "ServerIP", clientIP = "ClientIP", download = "Download", upload = "Upload"
        }
    }

    struct Subtest: Decodable {
        var uuid: String?
        var throughput: Pair?
        var latency: Pair?
        var retransmission: Pair?

        enum CodingKeys: String, CodingKey { case uuid = "UUID", throughput = "Throughput", latency = "Latency", retransmission = "Retransmission" }
    }

    struct Pair: Decodable {
        var value: Double
        var unit: String

        enum CodingKeys: String, CodingKey { case value = "Value", unit = "Unit" }

        /// Go's zero value: the field was never set.
        var isUnset: Bool { unit.isEmpty && value == 0 }
    }

    static func read(_ output: String) -> MeasurementReader.Verdict {
        guard let (firstLine, lastLine) = MeasurementReader.firstAndLastLines(of: output) else {
            return .notThisFormat("the output is empty; ndt7-client -format=json writes one JSON object per line")
        }
        let last = MeasurementReader.trimmed(String(lastLine))
        // Recognised by its last line (the summary) or its first (an event).
        let looksLikeSummary = last.first == "{"
            && (MeasurementReader.has(last, "\"ServerFQDN\"") || MeasurementReader.has(last, "\"Download\"") || MeasurementReader.has(last, "\"Upload\""))
        // The first line is decoded only when the last is no summary.
        guard looksLikeSummary || (MeasurementReader.has(firstLine, "\"Key\"") && (try? MeasurementReader.decode(Event.self, from: firstLine).get()) != nil) else {
            return .notThisFormat("not ndt7-client -format=json output: the last line is not its summary (ServerFQDN, Download, Upload) and the first is not one of its events")
        }
        // The tool's own failures: error events. Only an output that names one is
        // split into lines, and only the lines that do are decoded.
        var failures: [String] = []
        let errorLines = MeasurementReader.has(output, "error") ? MeasurementReader.lines(of: output).filter { MeasurementReader.has($0, "error") } : []
        for line in errorLines {
            guard case .success(let event) = MeasurementReader.decode(Event.self, from: line), event.key == "error" else { continue }
            let test = event.value?.test.map { "\($0): " } ?? ""
            failures.append(test + (event.value?.failure ?? "an error without a message"))
        }
        if !failures.isEmpty {
            return .reading(MeasurementReader.failure(failures.joined(separator: "; ")))
        }
        guard looksLikeSummary else {
            return .reading(.unreadable("ndt7 output has no summary: the last line has no ServerFQDN, Download or Upload (was the test cut short?)"))
        }
        let found: Summary
        switch MeasurementReader.decode(Summary.self, from: last) {
        case .success(let decoded): found = decoded
        case .failure(let error): return .reading(.unreadable("ndt7 summary: \(error.message)"))
        }
        do {
            return .reading(.measured(try measurement(of: found)))
        } catch {
            return .reading(.unreadable("ndt7 summary: \(error.message)"))
        }
    }

    static func measurement(of summary: Summary) throws(UnreadableOutput) -> SpeedMeasurement {
        var measurement = SpeedMeasurement(tool: .ndt7, serverName: MeasurementReader.text(summary.serverFQDN), serverIP: MeasurementReader.text(summary.serverIP),
                                      clientIP: MeasurementReader.text(summary.clientIP))
        var rtts: [Double] = []
        if let download = summary.download {
            measurement.downloadMbps = try mbps(download.throughput, "Download.Throughput")
            measurement.downloadID = MeasurementReader.text(download.uuid)
            if let rtt = try milliseconds(download.latency, "Download.Latency") { rtts.append(rtt) }
            measurement.retransmissionPercent = try percent(download.retransmission, "Download.Retransmission")
        }
        if let upload = summary.upload {
            measurement.uploadMbps = try mbps(upload.throughput, "Upload.Throughput")
            measurement.uploadID = MeasurementReader.text(upload.uuid)
            if let rtt = try milliseconds(upload.latency, "Upload.Latency") { rtts.append(rtt) }
        }
        // A minimum RTT of 0 is a subtest that never read its TCP state.
        measurement.minRTTMs = rtts.filter { $0 > 0 }.min()
        guard measurement.hasThroughput else {
            throw UnreadableOutput("neither Download nor Upload has a Throughput")
        }
        return measurement
    }

    static func mbps(_ pair: Pair?, _ field: String) throws(UnreadableOutput) -> Double? {
        guard let pair, !pair.isUnset else { return nil }
        let factor: Double
        switch pair.unit.lowercased() {
        case "bit/s", "bps", "b/s": factor = 1e-6
        case "kbit/s", "kbps", "kb/s": factor = 1e-3
        case "mbit/s", "mbps", "mb/s": factor = 1
        case "gbit/s", "gbps", "gb/s": factor = 1e3
        default: throw UnreadableOutput("\(field) is in '\(pair.unit)'; expected bit/s, kbit/s, Mbit/s or Gbit/s")
        }
        return try MeasurementReader.checked(pair.value * factor, field + " (Mbit/s)", limit: MeasurementReader.maxMbps)
    }

    static func milliseconds(_ pair: Pair?, _ field: String) throws(UnreadableOutput) -> Double? {
        guard let pair, !pair.isUnset else { return nil }
        let factor: Double
        switch pair.unit {
        case "ms": factor = 1
        case "s": factor = 1000
        case "us", "µs", "μs": factor = 1e-3
        case "ns": factor = 1e-6
        default: throw UnreadableOutput("\(field) is in '\(pair.unit)'; expected ms, s, µs or ns")
        }
        return try MeasurementReader.checked(pair.value * factor, field + " (ms)", limit: MeasurementReader.maxMilliseconds)
    }

    static func percent(_ pair: Pair?, _ field: String) throws(UnreadableOutput) -> Double? {
        guard let pair, !pair.isUnset else { return nil }
        guard pair.unit == "%" else { throw UnreadableOutput("\(field) is in '\(pair.unit)'; expected %") }
        return try MeasurementReader.checked(pair.value, field + " (%)", limit: 100)
    }
}

// MARK: - iperf3

/// iperf3's `-J` report: one JSON object. The client measures what it sends
/// (`-c HOST`: the upload) or, with `-R`, what the server sends it (the download).
/// The throughput is what arrived (`end.sum_received`), with the loss over UDP;
/// the minimum RTT is the sender's, known only when this side sent; an `error`
/// field is the tool's failure. The client's address as the server saw it is not
/// in the report.
enum IPerf3Report {
    struct Report: Decodable {
        var start: Start?
        var end: End?
        var error: String?
    }

    struct Start: Decodable {
        var connected: [Connection]?
        var connectingTo: Host?
        var testStart: TestStart?
        var cookie: String?

        enum CodingKeys: String, CodingKey { case connected, connectingTo = "connecting_to", testStart = "test_start", cookie }
    }

    struct Connection: Decodable {
        var remoteHost: String?
        enum CodingKeys: String, CodingKey { case remoteHost = "remote_host" }
    }

    struct Host: Decodable {
        var host: String?
    }

    struct TestStart: Decodable {
        var protocolName: String?
        var reverse: Int?
        enum CodingKeys: String, CodingKey { case protocolName = "protocol", reverse }
    }

    struct End: Decodable {
        var sumSent: Sum?
        var sumReceived: Sum?
        var sum: Sum?
        var streams: [Stream]?

        enum CodingKeys: String, CodingKey { case sumSent = "sum_sent", sumReceived = "sum_received", sum, streams }
    }

    struct Sum: Decodable {
        var bitsPerSecond: Double?
        var retransmits: Int?
        var lostPercent: Double?

        enum CodingKeys: String, CodingKey { case bitsPerSecond = "bits_per_second", retransmits, lostPercent = "lost_percent" }
    }

    struct Stream: Decodable {
        var sender: Side?
    }

    struct Side: Decodable {
        /// Microseconds; 0 when this side did not send.
        var minRTT: Double?
        var sender: Bool?
        enum CodingKeys: String, CodingKey { case minRTT = "min_rtt", sender }
    }

    static func read(_ output: String) -> MeasurementReader.Verdict {
        let trimmed = MeasurementReader.trimmed(output)
        guard trimmed.first == "{", MeasurementReader.has(trimmed, "\"start\"") || MeasurementReader.has(trimmed, "\"error\"") else {
            return .notThisFormat("not an iperf3 -J report: expected one JSON object with 'start' and 'end'")
        }
        let report: Report
        switch MeasurementReader.decode(Report.self, from: trimmed) {
        case .success(let decoded): report = decoded
        case .failure(let error): return .notThisFormat("not an iperf3 -J report: \(error.message)")
        }
        guard report.start != nil || report.error != nil else {
            return .notThisFormat("not an iperf3 -J report: it has no 'start' and no 'error'")
        }
        if let error = report.error {
            return .reading(MeasurementReader.failure(error))
        }
        do {
            return .reading(.measured(try measurement(of: report)))
        } catch {
            return .reading(.unreadable("iperf3 report: \(error.message)"))
        }
    }

    static func measurement(of report: Report) throws(UnreadableOutput) -> SpeedMeasurement {
        let udp = report.start?.testStart?.protocolName?.uppercased() == "UDP"
        let reverse = (report.start?.testStart?.reverse ?? 0) != 0
        guard let end = report.end else { throw UnreadableOutput("it has no 'end' (was the test cut short?)") }
        // Over UDP, iperf3 before 3.11 writes the receiver's figures in end.sum alone.
        let (arrived, field) = end.sumReceived?.bitsPerSecond != nil || !udp ? (end.sumReceived, "end.sum_received") : (end.sum, "end.sum")
        guard let bits = arrived?.bitsPerSecond else {
            throw UnreadableOutput("it has no end.sum_received.bits_per_second (was the test cut short?)")
        }
        let mbps = try MeasurementReader.checked(bits / 1e6, field + ".bits_per_second", limit: MeasurementReader.maxMbps)
        var measurement = SpeedMeasurement(tool: .iperf3, serverName: MeasurementReader.text(report.start?.connectingTo?.host),
                                      serverIP: MeasurementReader.text(report.start?.connected?.first?.remoteHost))
        if reverse { measurement.downloadMbps = mbps } else { measurement.uploadMbps = mbps }
        if udp {
            measurement.lossPercent = try MeasurementReader.checked(arrived?.lostPercent, field + ".lost_percent", limit: 100)
        } else if !reverse, let retransmits = end.sumSent?.retransmits {
            guard retransmits >= 0 else { throw UnreadableOutput("end.sum_sent.retransmits is \(retransmits)") }
            measurement.retransmits = retransmits
        }
        let rtts = (end.streams ?? []).compactMap { $0.sender }.filter { $0.sender == true }.compactMap(\.minRTT).filter { $0 > 0 }
        if let lowest = rtts.min() {
            measurement.minRTTMs = try MeasurementReader.checked(lowest / 1000, "end.streams[].sender.min_rtt (ms)", limit: MeasurementReader.maxMilliseconds)
        }
        measurement.downloadID = reverse ? MeasurementReader.text(report.start?.cookie) : nil
        measurement.uploadID = reverse ? nil : MeasurementReader.text(report.start?.cookie)
        return measurement
    }
}

// MARK: - The plain JSON object

/// The format for custom scripts: one JSON object, the whole output or its last
/// line, with any of `download_mbps`, `upload_mbps`, `min_rtt_ms`,
/// `retransmission_percent`, `loss_percent`, `server_name`, `server_ip`,
/// `client_ip`, `download_id`, `upload_id`, and `error` (the script's own
/// failure). Other keys are ignored.
enum PlainMeasurement {
    struct Object: Decodable {
        var downloadMbps: Double?
        var uploadMbps: Double?
        var minRTTMs: Double?
        var retransmissionPercent: Double?
        var lossPercent: Double?
        var serverName: String?
        var serverIP: String?
        var clientIP: String?
        var downloadID: String?
        var uploadID: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case downloadMbps = "download_mbps", uploadMbps = "upload_mbps", minRTTMs = "min_rtt_ms", retransmissionPercent = "retransmission_percent"
            case lossPercent = "loss_percent", serverName = "server_name", serverIP = "server_ip", clientIP = "client_ip"
            case downloadID = "download_id", uploadID = "upload_id", error
        }

        /// Whether it holds any key of the format: an object without one is some other JSON.
        var isOne: Bool { downloadMbps != nil || uploadMbps != nil || error != nil }
    }

    static func read(_ output: String) -> MeasurementReader.Verdict {
        let trimmed = MeasurementReader.trimmed(output)
        var candidates: [Substring] = [trimmed]
        if let (_, last) = MeasurementReader.firstAndLastLines(of: output), last.utf8.count != trimmed.utf8.count {
            candidates.append(MeasurementReader.trimmed(String(last)))
        }
        var firstError: UnreadableOutput?
        for text in candidates where text.first == "{" && (MeasurementReader.has(text, "\"download_mbps\"") || MeasurementReader.has(text, "\"upload_mbps\"")
                                                           || MeasurementReader.has(text, "\"error\"")) {
            switch MeasurementReader.decode(Object.self, from: text) {
            case .success(let object) where object.isOne:
                if let error = object.error { return .reading(MeasurementReader.failure(error)) }
                do {
                    return .reading(.measured(try measurement(of: object)))
                } catch {
                    return .reading(.unreadable("JSON measurement: \(error.message)"))
                }
            case .success:
                continue
            case .failure(let error):
                firstError = firstError ?? error
            }
        }
        if let firstError { return .reading(.unreadable("JSON measurement: \(firstError.message)")) }
        return .notThisFormat("no JSON object with download_mbps, upload_mbps or error as the output or its last line")
    }

    static func measurement(of object: Object) throws(UnreadableOutput) -> SpeedMeasurement {
        let measurement = SpeedMeasurement(
            tool: .json,
            downloadMbps: try MeasurementReader.checked(object.downloadMbps, "download_mbps", limit: MeasurementReader.maxMbps),
            uploadMbps: try MeasurementReader.checked(object.uploadMbps, "upload_mbps", limit: MeasurementReader.maxMbps),
            minRTTMs: try MeasurementReader.checked(object.minRTTMs, "min_rtt_ms", limit: MeasurementReader.maxMilliseconds),
            retransmissionPercent: try MeasurementReader.checked(object.retransmissionPercent, "retransmission_percent", limit: 100),
            lossPercent: try MeasurementReader.checked(object.lossPercent, "loss_percent", limit: 100),
            serverName: MeasurementReader.text(object.serverName), serverIP: MeasurementReader.text(object.serverIP),
            clientIP: MeasurementReader.text(object.clientIP), downloadID: MeasurementReader.text(object.downloadID),
            uploadID: MeasurementReader.text(object.uploadID))
        return measurement
    }
}
