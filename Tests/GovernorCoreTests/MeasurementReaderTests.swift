import Foundation
import Testing

@testable import GovernorCore

@Suite("Reading what a test measured")
struct MeasurementReaderTests {
    func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: Fixtures.path("measurements/" + name), encoding: .utf8)
    }

    func measured(_ reading: MeasurementReading, sourceLocation: SourceLocation = #_sourceLocation) throws -> SpeedMeasurement {
        try #require(reading.measurement, "expected a measurement, got \(reading)", sourceLocation: sourceLocation)
    }

    // MARK: ndt7

    @Test("a complete ndt7 run: both directions, the server, the egress and the UUIDs", arguments: [ResultFormat.ndt7, .auto])
    func ndt7Complete(format: ResultFormat) throws {
        let measurement = try measured(MeasurementReader.read(try fixture("ndt7-complete.jsonl"), format: format))
        #expect(measurement == SpeedMeasurement(
            tool: .ndt7, downloadMbps: 93.14, uploadMbps: 18.45, minRTTMs: 11.2, retransmissionPercent: 0.35,
            serverName: "ndt-mlab1-mil04.mlab-oti.measurement-lab.org", serverIP: "213.242.77.145", clientIP: "203.0.113.45",
            downloadID: "ndt-4c6fb_1625899199_000000000121D3A1", uploadID: "ndt-4c6fb_1625899199_000000000121D3A7"))
    }

    @Test("a download-only run in other units: kbit/s and seconds are converted")
    func ndt7DownloadOnlyOtherUnits() throws {
        let measurement = try measured(MeasurementReader.read(try fixture("ndt7-download-only.jsonl"), format: .auto))
        #expect(measurement.downloadMbps == 5.0325)
        #expect(measurement.uploadMbps == nil)
        #expect(abs((measurement.minRTTMs ?? 0) - 41.2) < 1e-9)
        #expect(measurement.retransmissionPercent == 1.5)
        #expect(measurement.clientIP == "2001:db8:1::45")
        #expect(measurement.uploadID == nil)
    }

    @Test("Gbit/s, bit/s and microseconds are honoured", arguments: [
        ("Gbit/s", 1.25, "us", 900.0, 1250.0, 0.9),
        ("bit/s", 2_500_000, "ms", 3, 2.5, 3),
        ("Mbps", 40, "ns", 5_000_000, 40, 5),
    ])
    func ndt7Units(throughputUnit: String, throughput: Double, latencyUnit: String, latency: Double, mbps: Double, ms: Double) throws {
        let summary = #"{"ServerFQDN":"ndt.example","Download":{"UUID":"u","Throughput":{"Value":\#(throughput),"Unit":"\#(throughputUnit)"},"Latency":{"Value":\#(latency),"Unit":"\#(latencyUnit)"}}}"#
        let measurement = try measured(MeasurementReader.read(summary, format: .ndt7))
        #expect(abs((measurement.downloadMbps ?? 0) - mbps) < 1e-9)
        #expect(abs((measurement.minRTTMs ?? 0) - ms) < 1e-9)
    }

    @Test("an error event fails the run with the tool's message, even when the other direction measured")
    func ndt7Error() throws {
        let reading = MeasurementReader.read(try fixture("ndt7-error.jsonl"), format: .auto)
        #expect(reading == .toolFailed("download: websocket: bad handshake"))
        #expect(reading.failure == "tool-error: download: websocket: bad handshake")
    }

    @Test("the platform's refusal is a rate limit")
    func ndt7RateLimited() throws {
        let reading = MeasurementReader.read(try fixture("ndt7-rate-limited.jsonl"), format: .ndt7)
        #expect(reading == .rateLimited("download: locate: 429 Too Many Requests"))
        #expect(reading.failure?.hasPrefix("rate-limited: ") == true)
    }

    @Test("ndt7 output that cannot be read: unreadable with ndt7, no measurement with auto", arguments: [
        // Cut short: events but no summary.
        (#"{"Key":"starting","Value":{"Test":"download"}}"# + "\n" + #"{"Key":"measurement","Value":{"Test":"download"}}"#, "no summary"),
        // A unit nobody uses.
        (#"{"ServerFQDN":"x","Download":{"Throughput":{"Value":3,"Unit":"furlongs"}}}"#, "Download.Throughput is in 'furlongs'"),
        // Negative and non-numeric figures.
        (#"{"ServerFQDN":"x","Download":{"Throughput":{"Value":-3,"Unit":"Mbit/s"}}}"#, "Download.Throughput (Mbit/s) is -3.0"),
        (#"{"ServerFQDN":"x","Download":{"Throughput":{"Value":"fast","Unit":"Mbit/s"}}}"#, "'Download.Throughput.Value' is not a number"),
        // A summary without a throughput.
        (#"{"ServerFQDN":"x","Download":{"UUID":"u"}}"#, "neither Download nor Upload has a Throughput"),
    ])
    func ndt7Unreadable(output: String, why: String) {
        guard case .unreadable(let message) = MeasurementReader.read(output, format: .ndt7) else {
            Issue.record("expected unreadable")
            return
        }
        #expect(message.contains(why), "\(message)")
        #expect(MeasurementReader.read(output, format: .auto) == .unrecognised)
    }

    // MARK: iperf3

    @Test("iperf3 -J: a client sending is the upload, with its retransmits and RTT")
    func iperf3Upload() throws {
        let measurement = try measured(MeasurementReader.read(try fixture("iperf3-upload.json"), format: .iperf3))
        #expect(measurement.tool == .iperf3)
        #expect(measurement.downloadMbps == nil)
        #expect(measurement.uploadMbps.map { $0 > 1000 } == true)  // loopback
        #expect(measurement.retransmits != nil)
        #expect(measurement.minRTTMs.map { $0 > 0 } == true)
        #expect(measurement.serverName == "127.0.0.1")
        #expect(measurement.serverIP == "127.0.0.1")
        #expect(measurement.clientIP == nil)
        #expect(measurement.uploadID?.isEmpty == false)  // the test's cookie
        #expect(try measured(MeasurementReader.read(try fixture("iperf3-upload.json"), format: .auto)) == measurement)
    }

    @Test("iperf3 -J -R: the server sending is the download, whose RTT only the server knew")
    func iperf3Download() throws {
        let text = try fixture("iperf3-download.json")
        let measurement = try measured(MeasurementReader.read(text, format: .auto))
        #expect(measurement.uploadMbps == nil)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let received = try #require(((report["end"] as? [String: Any])?["sum_received"] as? [String: Any])?["bits_per_second"] as? Double)
        #expect(measurement.downloadMbps == received / 1e6)
        #expect(measurement.minRTTMs == nil)
        #expect(measurement.retransmits == nil)
    }

    @Test("iperf3 over UDP: the loss")
    func iperf3UDP() throws {
        let measurement = try measured(MeasurementReader.read(try fixture("iperf3-udp.json"), format: .auto))
        #expect(measurement.lossPercent == 0)
        #expect(measurement.uploadMbps.map { $0 > 5 && $0 < 20 } == true)  // -b 10M
    }

    @Test("an iperf3 error is the tool's failure")
    func iperf3Error() throws {
        #expect(MeasurementReader.read(try fixture("iperf3-refused.json"), format: .iperf3) == .toolFailed("unable to connect to server: Connection refused"))
        #expect(MeasurementReader.read(#"{"start":{},"end":{},"error":"error - the server is busy running a test. try again later"}"#, format: .auto)
            == .toolFailed("error - the server is busy running a test. try again later"))
    }

    @Test("an iperf3 report cut short is unreadable")
    func iperf3CutShort() {
        #expect(MeasurementReader.read(#"{"start":{"connected":[]},"end":{}}"#, format: .iperf3)
            == .unreadable("iperf3 report: it has no end.sum_received.bits_per_second (was the test cut short?)"))
    }

    // MARK: The plain JSON object

    @Test("a script's JSON object, alone or as the last line after its log")
    func plainObject() throws {
        let object = #"{"download_mbps": 48.5, "upload_mbps": 9.75, "min_rtt_ms": 23, "loss_percent": 0.5, "server_name": "speed.example.net", "client_ip": "198.51.100.7", "extra": [1, 2]}"#
        let expected = SpeedMeasurement(tool: .json, downloadMbps: 48.5, uploadMbps: 9.75, minRTTMs: 23, lossPercent: 0.5, serverName: "speed.example.net",
                                   clientIP: "198.51.100.7")
        #expect(try measured(MeasurementReader.read(object, format: .json)) == expected)
        #expect(try measured(MeasurementReader.read("connecting…\nrunning 10 s\n" + object + "\n", format: .auto)) == expected)
        let indented = "{\n  \"upload_mbps\": 3\n}\n"
        #expect(try measured(MeasurementReader.read(indented, format: .auto)).uploadMbps == 3)
    }

    @Test("a script's error field is its failure; a wrong field is named")
    func plainObjectFailures() {
        #expect(MeasurementReader.read(#"{"error": "no route to the test server"}"#, format: .json) == .toolFailed("no route to the test server"))
        #expect(MeasurementReader.read(#"{"download_mbps": "48"}"#, format: .json) == .unreadable("JSON measurement: 'download_mbps' is not a number"))
        #expect(MeasurementReader.read(#"{"download_mbps": 1e300}"#, format: .json)
            == .unreadable("JSON measurement: download_mbps is 1e+300; expected a number from 0 to 10000000"))
    }

    // MARK: Formats

    @Test("text that no format recognises: nothing with auto, unreadable with an explicit format, ignored with none")
    func unrecognised() {
        let output = "Ping: 12 ms\nDownload: 45.2 Mbit/s\n"
        #expect(MeasurementReader.read(output, format: .auto) == .unrecognised)
        #expect(MeasurementReader.read("", format: .auto) == .unrecognised)
        #expect(MeasurementReader.read(#"{"some": "other json"}"#, format: .auto) == .unrecognised)
        #expect(MeasurementReader.read(output, format: .none) == .unrecognised)
        for format in [ResultFormat.ndt7, .iperf3, .json] {
            guard case .unreadable = MeasurementReader.read(output, format: format) else {
                Issue.record("\(format) read text")
                continue
            }
        }
        #expect(MeasurementReader.read(output, format: .none).failure == nil)
    }

    @Test("the byte search finds a needle anywhere, and only a whole one")
    func byteSearch() {
        #expect(MeasurementReader.has("error", "error"))
        #expect(MeasurementReader.has("{\"Key\":\"error\"}", "error"))
        #expect(MeasurementReader.has("errerror", "error"))  // after a partial match
        #expect(MeasurementReader.has("…é error", "error"))    // after multi-byte characters
        #expect(!MeasurementReader.has("erro", "error"))
        #expect(!MeasurementReader.has("errorr"[..<"errorr".index("errorr".startIndex, offsetBy: 4)], "error"))
        #expect(!MeasurementReader.has("", "error"))
        #expect(MeasurementReader.has("x", ""))
    }

    @Test("no output makes the reader trap", arguments: [
        "", "\n\n", "{", "}", "[]", "null", #"{"Key":"error"}"#, #"{"Key":"error","Value":null}"#, #"{"ServerFQDN":null,"Download":{}}"#,
        #"{"start":null,"end":null}"#, #"{"start":{"test_start":{"reverse":"yes"}},"end":{}}"#, "{\"download_mbps\":1}\u{0}",
        #"{"ServerFQDN":"x","Download":{"Throughput":{"Value":1e308,"Unit":"Gbit/s"}}}"#,
        #"{"start":{},"end":{"sum_received":{"bits_per_second":-1}}}"#, #"{"start":{},"end":{"sum_sent":{"retransmits":-5},"sum_received":{"bits_per_second":1}}}"#,
    ])
    func neverTraps(output: String) {
        for format in ResultFormat.allCases {
            _ = MeasurementReader.read(output, format: format)
        }
    }
}
