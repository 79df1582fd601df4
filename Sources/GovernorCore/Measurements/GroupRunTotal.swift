/// One group run of a school: its group and scheduled run time (seconds). The
/// results and measurements of its members carry both; nothing else links them.
public struct GroupRunKey: Sendable, Hashable {
    public var group: String
    public var runAt: Int64

    public init(group: String, runAt: Int64) {
        self.group = group
        self.runAt = runAt
    }

    /// The key of a measurement or result that has a group and a run time.
    public init?(group: String?, runAt: Int64?) {
        guard let group, let runAt else { return nil }
        self.init(group: group, runAt: runAt)
    }
}

/// What a group run measured as a whole: the sum of its members' throughputs.
///
/// The members test the one uplink at once, so their sum is what the school's line
/// carried, the figure a group run is scheduled for. A member that measured no
/// download adds nothing to it; `downloads` says how many did, so that a reader
/// sees a sum of two of three members for what it is.
public struct GroupRunTotal: Sendable, Equatable {
    public var key: GroupRunKey
    /// The members that have a measurement, in the order they came.
    public var probes: [String]
    public var downloadMbps: Double?
    public var uploadMbps: Double?
    /// Members that measured a download, and an upload.
    public var downloads: Int
    public var uploads: Int

    public init(key: GroupRunKey) {
        self.key = key
        self.probes = []
        self.downloads = 0
        self.uploads = 0
    }

    /// Adds one member's measurement.
    public mutating func add(probe: String, downloadMbps: Double?, uploadMbps: Double?) {
        probes.append(probe)
        if let downloadMbps {
            self.downloadMbps = (self.downloadMbps ?? 0) + downloadMbps
            downloads += 1
        }
        if let uploadMbps {
            self.uploadMbps = (self.uploadMbps ?? 0) + uploadMbps
            uploads += 1
        }
    }

    /// The totals of the group runs among `members` (probe, key, download, upload),
    /// in the order each run first appears.
    public static func totals<Members: Sequence>(
        of members: Members
    ) -> [GroupRunTotal] where Members.Element == (probe: String, key: GroupRunKey, downloadMbps: Double?, uploadMbps: Double?) {
        var index: [GroupRunKey: Int] = [:]
        var totals: [GroupRunTotal] = []
        for member in members {
            let at = index[member.key] ?? {
                totals.append(GroupRunTotal(key: member.key))
                index[member.key] = totals.count - 1
                return totals.count - 1
            }()
            totals[at].add(probe: member.probe, downloadMbps: member.downloadMbps, uploadMbps: member.uploadMbps)
        }
        return totals
    }
}
