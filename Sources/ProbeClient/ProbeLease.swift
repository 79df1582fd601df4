import Foundation

/// The runs a probe holds from its governor (`GET /v1/probes/{id}/runs`): it runs
/// each at its time whether or not the governor can be reached, and stops when the
/// lease runs out. Kept on disk beside the result queue, written atomically, so a
/// restart during an outage of the governor carries on with the same runs.
public struct ProbeLease: Codable, Sendable, Equatable {
    /// Unix seconds; the runs are all at or before it.
    public var leaseUntil: Int64
    /// Unix seconds, ascending.
    public var runs: [Int64]
    /// Of ``runs``, the group runs, started at the governor's instant; nil in a lease
    /// kept by an earlier probe, and when there are none.
    public var grouped: [Int64]?

    public init(leaseUntil: Int64 = 0, runs: [Int64] = [], grouped: [Int64]? = nil) {
        self.leaseUntil = leaseUntil
        self.runs = runs
        self.grouped = grouped
    }

    enum CodingKeys: String, CodingKey {
        case runs, grouped
        case leaseUntil = "lease_until"
    }

    /// Whether the run at `runAt` is a group run.
    public func isGrouped(_ runAt: Int64) -> Bool {
        grouped?.contains(runAt) ?? false
    }

    /// The earliest run strictly after `instant`.
    public func next(after instant: Double) -> Int64? {
        runs.first { Double($0) > instant }
    }

    /// Whether the lease has run out at `instant`: no run is left to run.
    public func hasRunOut(at instant: Double) -> Bool {
        next(after: instant) == nil
    }

    /// This lease refreshed by the governor's answer: the answer is the whole truth up
    /// to its own end; runs held beyond it stay unless the answer cancels them.
    public func refreshed(by answer: GovernorAPI.Lease) -> ProbeLease {
        let cancelled = Set(answer.cancelled)
        let beyond = runs.filter { $0 > answer.leaseUntil && !cancelled.contains($0) }
        let grouped = (answer.grouped.sorted() + beyond.filter(isGrouped)).sorted()
        return ProbeLease(leaseUntil: max(leaseUntil, answer.leaseUntil), runs: (answer.runs + beyond).sorted(), grouped: grouped.isEmpty ? nil : grouped)
    }

    /// The lease kept at `path`, or nil when there is none (or it cannot be read).
    public static func load(from path: String) -> ProbeLease? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ProbeLease.self, from: data)
    }

    /// Writes the lease to `path` under a temporary name, flushed, and renamed into place.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try ResultQueue.writeAtomically(try encoder.encode(self), to: path)
    }
}
