public import GovernorWire
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

    /// Where results the governor will never take are kept, each with the reason:
    /// a `rejected` folder beside the queue's.
    public var rejectedDirectory: String {
        ((directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("rejected")
    }

    /// Stores `report` and returns its file name, which begins with the time it was queued.
    @discardableResult
    public func enqueue(_ report: ResultReport, at instant: Double? = nil) throws -> String {
        let name = String(format: "%017.6f", instant ?? Date().timeIntervalSince1970) + "-" + UUID().uuidString.prefix(8) + ".json"
        try write(report, as: name, in: directory)
        return name
    }

    /// Replaces a queued result (with its output cut, say), atomically.
    public func replace(_ name: String, with report: ResultReport) throws {
        try write(report, as: name, in: directory)
    }

    /// Moves a queued result to ``rejectedDirectory``, with a `.reason` file beside it.
    public func reject(_ name: String, reason: String) throws {
        try FileManager.default.createDirectory(atPath: rejectedDirectory, withIntermediateDirectories: true)
        try Self.writeAtomically(Data((reason + "\n").utf8), to: "\(rejectedDirectory)/\((name as NSString).deletingPathExtension).reason")
        if rename("\(directory)/\(name)", "\(rejectedDirectory)/\(name)") != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(rejectedDirectory)/\(name)"])
        }
    }

    /// When a queued result was queued, from its name.
    public static func enqueuedAt(_ name: String) -> Double? {
        Double(name.prefix { $0 != "-" })
    }

    private func write(_ report: ResultReport, as name: String, in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try Self.writeAtomically(try encoder.encode(report), to: "\(directory)/\(name)")
    }

    /// Written under a temporary name, flushed, and renamed into place.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        if rename(temporary, path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// The queued results, oldest first, with their file names.
    public func pending() -> [(name: String, report: ResultReport)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                  let report = try? JSONDecoder().decode(ResultReport.self, from: data) else { return nil }
            return (name, report)
        }
    }

    public func remove(_ name: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
    }
}

extension ResultReport {
    /// The report with its output cut to about half, at a character boundary, and flagged.
    public func halvingOutput() -> ResultReport {
        var copy = self
        copy.output = String(output.prefix(output.count / 2))
        copy.outputTruncated = true
        return copy
    }
}
