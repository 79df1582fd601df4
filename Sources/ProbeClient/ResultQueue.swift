import Foundation

/// Results not yet delivered, one JSON file each in a directory, so that nothing is
/// lost when the governor is unreachable or the probe restarts.
///
/// A file is written under a temporary name, flushed and renamed into place, so a
/// crash leaves either the whole result or none of it. Names sort by creation time,
/// so delivery is oldest first; a file is removed only after the governor took it.
public struct ResultQueue: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Stores `report` and returns its file name.
    @discardableResult
    public func enqueue(_ report: ProbeReport) throws -> String {
        let name = String(format: "%017.6f", Date().timeIntervalSince1970) + "-" + UUID().uuidString.prefix(8) + ".json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(report)
        let temporary = "\(directory)/.\(name).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        if rename(temporary, "\(directory)/\(name)") != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: name])
        }
        return name
    }

    /// The queued results, oldest first, with their file names.
    public func pending() -> [(name: String, report: ProbeReport)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                  let report = try? JSONDecoder().decode(ProbeReport.self, from: data) else { return nil }
            return (name, report)
        }
    }

    public func remove(_ name: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
    }
}

/// One test's result, as `POST /v1/probes/{id}/results` takes it.
public struct ProbeReport: Codable, Sendable, Equatable {
    public var runAt: String
    public var startedAt: String
    public var finishedAt: String
    public var exitCode: Int
    public var output: String
    public var clockOffsetMs: Double?
    /// The spawn time minus the run time, by the probe's clock.
    public var startLatenessMs: Double?

    enum CodingKeys: String, CodingKey {
        case output
        case runAt = "run_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case clockOffsetMs = "clock_offset_ms"
        case startLatenessMs = "start_lateness_ms"
    }

    public init(runAt: String, startedAt: String, finishedAt: String, exitCode: Int, output: String, clockOffsetMs: Double?, startLatenessMs: Double?) {
        self.runAt = runAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.output = output
        self.clockOffsetMs = clockOffsetMs
        self.startLatenessMs = startLatenessMs
    }
}
