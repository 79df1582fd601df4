/// What one test measured, read from its tool's output at intake: the answer to
/// "what speed does this school get", one test at a time.
///
/// Every figure is optional: an ndt7 run may have only a download, an iperf3 run
/// measures one direction, a script reports what it has. Throughput is in Mbit/s
/// (10⁶ bits per second, as the tools and the contracts count), times in ms.
public struct SpeedMeasurement: Sendable, Equatable, Codable {
    /// Which reader made it.
    public enum Tool: String, Sendable, Codable, CaseIterable {
        /// ndt7-client's `-format=json` summary.
        case ndt7
        /// iperf3's `-J` report.
        case iperf3
        /// The plain JSON object documented for custom scripts.
        case json
    }

    public var tool: Tool
    public var downloadMbps: Double?
    public var uploadMbps: Double?
    /// The lowest round-trip time the test saw.
    public var minRTTMs: Double?
    /// Bytes retransmitted for every 100 sent (ndt7's download, by its server).
    public var retransmissionPercent: Double?
    /// Retransmitted TCP segments (iperf3's sender counts segments, not bytes).
    public var retransmits: Int?
    /// Datagrams lost for every 100 sent (iperf3 over UDP).
    public var lossPercent: Double?
    /// The measurement server's name, as the tool reached it.
    public var serverName: String?
    public var serverIP: String?
    /// The client's address as the server saw it: the school's egress.
    public var clientIP: String?
    /// The tool's identifier of the download and of the upload (ndt7's UUIDs, which
    /// join M-Lab's public tables).
    public var downloadID: String?
    public var uploadID: String?

    /// The API's names (`download_mbps`, `min_rtt_ms`…): this type is the wire's too.
    enum CodingKeys: String, CodingKey {
        case tool, retransmits
        case downloadMbps = "download_mbps"
        case uploadMbps = "upload_mbps"
        case minRTTMs = "min_rtt_ms"
        case retransmissionPercent = "retransmission_percent"
        case lossPercent = "loss_percent"
        case serverName = "server_name"
        case serverIP = "server_ip"
        case clientIP = "client_ip"
        case downloadID = "download_id"
        case uploadID = "upload_id"
    }

    public init(tool: Tool, downloadMbps: Double? = nil, uploadMbps: Double? = nil, minRTTMs: Double? = nil, retransmissionPercent: Double? = nil,
                retransmits: Int? = nil, lossPercent: Double? = nil, serverName: String? = nil, serverIP: String? = nil, clientIP: String? = nil,
                downloadID: String? = nil, uploadID: String? = nil) {
        self.tool = tool
        self.downloadMbps = downloadMbps
        self.uploadMbps = uploadMbps
        self.minRTTMs = minRTTMs
        self.retransmissionPercent = retransmissionPercent
        self.retransmits = retransmits
        self.lossPercent = lossPercent
        self.serverName = serverName
        self.serverIP = serverIP
        self.clientIP = clientIP
        self.downloadID = downloadID
        self.uploadID = uploadID
    }

    /// Whether it holds a throughput, the figure every view is about.
    public var hasThroughput: Bool { downloadMbps != nil || uploadMbps != nil }
}

/// How a school's test output is read (`result_format` in `[Governor]` and `[School]`).
public enum ResultFormat: String, Sendable, CaseIterable, Codable {
    /// Whatever the output is, of the formats below; output none of them recognises
    /// has no measurement and is not a failure.
    case auto
    case ndt7
    case iperf3
    case json
    /// Output is never read.
    case none
}

/// What reading a test's output gave.
public enum MeasurementReading: Sendable, Equatable {
    case measured(SpeedMeasurement)
    /// Nothing to read: the format is `none`, or with `auto` no format recognised the output.
    case unrecognised
    /// The school's explicit format could not read the output; the text says what was wrong.
    case unreadable(String)
    /// The output is readable and says the tool itself failed.
    case toolFailed(String)
    /// The output says the measurement platform refused the client (a rate limit).
    case rateLimited(String)

    /// The `failure` text to store with the run's result, for a reading that fails the run.
    public var failure: String? {
        switch self {
        case .measured, .unrecognised: nil
        case .unreadable(let why): RunFailure.text(RunFailure.unreadableOutput, why)
        case .toolFailed(let message): RunFailure.text(RunFailure.toolError, message)
        case .rateLimited(let message): RunFailure.text(RunFailure.rateLimited, message)
        }
    }

    public var measurement: SpeedMeasurement? {
        if case .measured(let measurement) = self { measurement } else { nil }
    }
}
