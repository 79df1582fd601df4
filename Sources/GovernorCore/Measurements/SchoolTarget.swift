/// What a school's measurements are judged against, from `[Governor]`: the
/// national benchmark, the rate per enrolled student, the poor threshold and the
/// rolling window of open days.
public struct MeasurementSettings: Sendable, Equatable {
    /// `target_download_mbps`: the download every school should get (a national benchmark).
    public var targetDownloadMbps: Double?
    /// `mbps_per_student`: the download each enrolled student should get (Brazil's programme asks 1).
    public var mbpsPerStudent: Double?
    /// `poor_below_mbps`: a median download below this is `poor`, whatever the target.
    public var poorBelowMbps: Double = 1
    /// `measurement_window`: how many of a school's last open days its state is taken over.
    public var windowDays: Int = 30

    public init(targetDownloadMbps: Double? = nil, mbpsPerStudent: Double? = nil, poorBelowMbps: Double = 1, windowDays: Int = 30) {
        self.targetDownloadMbps = targetDownloadMbps
        self.mbpsPerStudent = mbpsPerStudent
        self.poorBelowMbps = poorBelowMbps
        self.windowDays = windowDays
    }
}

/// What one school pays for and needs, from its `[School]`.
public struct SchoolProfile: Sendable, Equatable {
    /// `contracted_download_mbps`, `contracted_upload_mbps`: the speeds in the school's contract.
    public var contractedDownloadMbps: Double?
    public var contractedUploadMbps: Double?
    /// `students`: how many are enrolled.
    public var students: Int?

    public init(contractedDownloadMbps: Double? = nil, contractedUploadMbps: Double? = nil, students: Int? = nil) {
        self.contractedDownloadMbps = contractedDownloadMbps
        self.contractedUploadMbps = contractedUploadMbps
        self.students = students
    }
}

/// The download a school should get, and where that figure came from. Derived one
/// way, for every view:
///
/// 1. the school's contract (`contracted_download_mbps`) when it has one: what it pays for;
/// 2. otherwise the larger of the national benchmark (`target_download_mbps`) and
///    `students` × `mbps_per_student`, of those that are set: what it needs;
/// 3. otherwise none: the school is judged against the poor threshold alone.
public struct SchoolTarget: Sendable, Equatable, Codable {
    public enum Source: String, Sendable, Codable, CaseIterable {
        case contract
        case benchmark
        case students
        /// No target is set: the poor threshold stands in for one.
        case none
    }

    /// Mbit/s.
    public var downloadMbps: Double
    public var source: Source
    /// Where the figure came from, in the operator's words and keys.
    public var explanation: String

    enum CodingKeys: String, CodingKey {
        case source, explanation
        case downloadMbps = "download_mbps"
    }

    public init(downloadMbps: Double, source: Source, explanation: String) {
        self.downloadMbps = downloadMbps
        self.source = source
        self.explanation = explanation
    }

    public init(profile: SchoolProfile, settings: MeasurementSettings) {
        if let contract = profile.contractedDownloadMbps {
            self.init(downloadMbps: contract, source: .contract, explanation: "the contract (contracted_download_mbps = \(Self.format(contract)))")
            return
        }
        let benchmark = settings.targetDownloadMbps
        let perStudent: Double? = if let students = profile.students, let rate = settings.mbpsPerStudent { Double(students) * rate } else { nil }
        switch (benchmark, perStudent) {
        case (let benchmark?, let needed?) where needed > benchmark:
            self.init(downloadMbps: needed, source: .students, explanation: "\(profile.students ?? 0) students × \(Self.format(settings.mbpsPerStudent ?? 0)) Mbit/s "
                      + "(mbps_per_student), above the national benchmark of \(Self.format(benchmark)) Mbit/s")
        case (let benchmark?, let needed):
            let beside = needed.map { ", above \(profile.students ?? 0) students × \(Self.format(settings.mbpsPerStudent ?? 0)) Mbit/s = \(Self.format($0))" } ?? ""
            self.init(downloadMbps: benchmark, source: .benchmark, explanation: "the national benchmark (target_download_mbps = \(Self.format(benchmark)))" + beside)
        case (nil, let needed?):
            self.init(downloadMbps: needed, source: .students,
                      explanation: "\(profile.students ?? 0) students × \(Self.format(settings.mbpsPerStudent ?? 0)) Mbit/s (mbps_per_student)")
        case (nil, nil):
            self.init(downloadMbps: settings.poorBelowMbps, source: .none,
                      explanation: "none set (no contract, benchmark or students): judged against the poor threshold, \(Self.format(settings.poorBelowMbps)) Mbit/s")
        }
    }

    /// `100`, `2.5`, `0.125`: a rate as the operator wrote it, without trailing zeros.
    public static func format(_ mbps: Double) -> String {
        let rounded = (mbps * 1000).rounded() / 1000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }
}
