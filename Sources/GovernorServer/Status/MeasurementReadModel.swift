import Foundation
import GovernorCore
import GovernorStore
import GovernorViews
import GovernorWire
import Synchronization

/// Every school's measurements over its window, in memory: what the standing of a
/// school and the fleet's KPIs are computed from, without a scan of the
/// measurements table per request.
///
/// A measurement is three numbers here (its school's local day, download and
/// upload: 16 bytes): 10,000 schools × 30 days × 8 tests is 38 MB. It is
/// filled at start-up in the background (``MeasurementLoader``) and kept in step by
/// ``ResultRecorder`` and the backfill, through which every stored measurement
/// passes. Entries older than a school's window are dropped as its window moves on.
///
/// A group run's members are summed as they come into one entry per run (its
/// ``GroupRunKey``), kept apart from the single probes' entries: a school is judged
/// by its single probes, and by its group runs' sums only when every probe it has
/// is in a group (``SchoolConfig/judgedByGroupRuns``).
final class MeasurementReadModel: Sendable {
    /// 16 bytes: the download exact (a state compares it with the target), the upload
    /// as a `Float` (only shown). NaN when the test did not measure that direction.
    struct Entry: Sendable, Equatable {
        var download: Double
        var day: Int32
        var upload: Float
    }

    fileprivate struct Contents {
        var entries: [String: [Entry]] = [:]
        /// Each school's group runs, each the sum of its members so far.
        var groupRuns: [String: [GroupRunKey: Entry]] = [:]
        /// Result ids at or below this are the loader's; intake records only later ones,
        /// so that none is counted twice. Nil before the loader has looked.
        var loadCeiling: Int64?
        /// Measurements stored before the loader set its ceiling: whether the loader
        /// sees them depends on when it asked, so they wait for the ceiling.
        var early: [(school: String, resultID: Int64, entry: Entry, groupRun: GroupRunKey?)] = []
        var loaded = false
        /// Changes with every measurement taken in, for ``fleet(generation:compute:)``.
        var version = 0
        /// With several governors: the result ids taken in lately, this governor's and
        /// those followed, so that the follower's overlapping reads count each once.
        var recent: [Int64: ContinuousClock.Instant] = [:]
        var recentPrunedAt = ContinuousClock.now
    }

    /// How long a result id is remembered: the follower reads back 30 s, by clocks
    /// that may differ a little between governors.
    static let recentSpan: Duration = .seconds(120)
    /// Whether other governors' measurements are followed (a shared state).
    let followsOthers: Bool

    init(followsOthers: Bool = false) {
        self.followsOthers = followsOthers
    }

    /// The fleet's standing, as one pass over the schools made it.
    struct Fleet: Sendable {
        var overview: MeasurementOverview
        /// The schools below their target, furthest first.
        var below: [(school: String, standing: SchoolStanding, share: Double)]
    }

    private struct CachedFleet {
        var fleet: Fleet
        var version: Int
        var generation: ObjectIdentifier
        var madeAt: ContinuousClock.Instant
    }

    /// How long a computed fleet serves at most: a new day (and a new window) shows within it.
    static let fleetMaxAge: Duration = .seconds(10)
    /// How long it serves while measurements keep coming: a steady intake does not make
    /// every page walk every school.
    static let fleetMinAge: Duration = .seconds(2)

    private let cachedFleet = Mutex<CachedFleet?>(nil)

    private let contents = Mutex(Contents())

    /// Whether the start-up load is complete (until then the standings are partial).
    var isLoaded: Bool { contents.withLock { $0.loaded } }

    /// The loader takes the measurements up to `resultID`; later ones come by ``record(_:in:)``.
    func beginLoad(through resultID: Int64) {
        contents.withLock { contents in
            contents.loadCeiling = resultID
            // Those the loader's read did not see are counted here; the rest, by the loader.
            for early in contents.early where early.resultID > resultID {
                contents.add(early.entry, of: early.school, groupRun: early.groupRun)
            }
            contents.early = []
        }
    }

    /// A page of stored measurements, from the loader: those of configured schools
    /// that fall in the school's window (`windows` gives its zone and first day).
    func load(_ points: [MeasurementPoint], windows: [String: (zone: TimeZone, firstDay: Int32)]) {
        contents.withLock { contents in
            contents.version &+= 1
            for point in points {
                guard let window = windows[point.school] else { continue }
                let entry = Self.entry(point, in: window.zone)
                if entry.day >= window.firstDay { contents.add(entry, of: point.school, groupRun: point.groupRun) }
            }
        }
    }

    func finishLoad() {
        contents.withLock {
            $0.loaded = true
            $0.version &+= 1
        }
    }

    /// The fleet's standing: the one computed last while it is still true (the same
    /// configuration `generation`, no measurement since, younger than ``fleetMaxAge``;
    /// or younger than ``fleetMinAge`` whatever came), else `compute()`'s.
    func fleet(generation: ObjectIdentifier, compute: () -> Fleet) -> Fleet {
        let version = contents.withLock { $0.version }
        let now = ContinuousClock.now
        if let cached = cachedFleet.withLock({ $0 }), cached.generation == generation {
            let age = now - cached.madeAt
            if age < Self.fleetMinAge || (cached.version == version && age < Self.fleetMaxAge) { return cached.fleet }
        }
        let fleet = compute()
        cachedFleet.withLock { $0 = CachedFleet(fleet: fleet, version: version, generation: generation, madeAt: now) }
        return fleet
    }

    /// A measurement just stored (intake or backfill).
    func record(_ point: MeasurementPoint, in zone: TimeZone) {
        contents.withLock { contents in
            if followsOthers { contents.recent[point.resultID] = .now }
            Self.take(point, in: zone, into: &contents)
        }
    }

    /// A measurement another governor stored (or this one, read back by the follower):
    /// taken in unless it was already.
    /// - Returns: whether it was new here.
    @discardableResult
    func recordFollowed(_ point: MeasurementPoint, in zone: TimeZone) -> Bool {
        contents.withLock { contents in
            let now = ContinuousClock.now
            if now - contents.recentPrunedAt > .seconds(30) {
                contents.recent = contents.recent.filter { now - $0.value < Self.recentSpan }
                contents.recentPrunedAt = now
            }
            guard contents.recent.updateValue(now, forKey: point.resultID) == nil else { return false }
            // The loader's, if it read that far.
            if let ceiling = contents.loadCeiling, point.resultID <= ceiling { return false }
            Self.take(point, in: zone, into: &contents)
            return true
        }
    }

    private static func take(_ point: MeasurementPoint, in zone: TimeZone, into contents: inout Contents) {
        let entry = Self.entry(point, in: zone)
        guard let ceiling = contents.loadCeiling else {
            contents.early.append((point.school, point.resultID, entry, point.groupRun))
            return
        }
        // At or below the loader's ceiling, the loader counts it.
        guard point.resultID > ceiling else { return }
        contents.add(entry, of: point.school, groupRun: point.groupRun)
        contents.version &+= 1
    }

    /// A measurement the backfill just stored for an old result: the load is over
    /// (the backfill waits for it), so it is counted once, here.
    func recordBackfilled(_ point: MeasurementPoint, in zone: TimeZone) {
        contents.withLock { contents in
            guard contents.loaded else { return }
            contents.add(Self.entry(point, in: zone), of: point.school, groupRun: point.groupRun)
            contents.version &+= 1
        }
    }

    private static func entry(_ point: MeasurementPoint, in zone: TimeZone) -> Entry {
        let day = LocalDate(containing: point.measuredAtMs / 1000, in: zone).daysSinceEpoch
        return Entry(download: point.downloadMbps ?? .nan, day: Int32(clamping: day), upload: point.uploadMbps.map(Float.init) ?? .nan)
    }

    /// Calls `body` with each of `school`'s entries, under the lock: its single probes'
    /// measurements, or its group runs' sums (`groupRuns`).
    func entries(of school: String, groupRuns: Bool = false, _ body: (Entry) -> Void) {
        contents.withLock { contents in
            if groupRuns {
                for entry in (contents.groupRuns[school] ?? [:]).values { body(entry) }
            } else {
                for entry in contents.entries[school] ?? [] { body(entry) }
            }
        }
    }

    /// Where `school` stands on `today` (its local date), and the entries older than its
    /// window are dropped. Its single probes' measurements judge it, or its group runs'
    /// sums when it has no single probe.
    func standing(of school: SchoolConfig, settings: MeasurementSettings, today: LocalDate, target: SchoolTarget? = nil,
                  uploads withUploads: Bool = true) -> SchoolStanding {
        // One walk back over the calendar, so that no measurement asks it.
        let window = school.measurementWindow(openDays: settings.windowDays, through: today)
        let first = Int32(clamping: window.first.daysSinceEpoch)
        let recentFirst = Int32(clamping: window.recentFirst.daysSinceEpoch)
        let last = Int32(clamping: today.daysSinceEpoch)
        var downloads: [Double] = []
        var uploads: [Double] = []
        var recent = false
        func count(_ entry: Entry) {
            guard entry.day <= last, window.isOpen(daysSinceEpoch: Int(entry.day)) else { return }
            if !entry.download.isNaN { downloads.append(entry.download) }
            if withUploads && !entry.upload.isNaN { uploads.append(Double(entry.upload)) }
            if entry.day >= recentFirst { recent = true }
        }
        let byGroupRuns = school.judgedByGroupRuns
        contents.withLock { contents in
            contents.drop(school.name, before: first)
            if byGroupRuns {
                guard let runs = contents.groupRuns[school.name] else { return }
                downloads.reserveCapacity(runs.count)
                for entry in runs.values { count(entry) }
            } else {
                guard let entries = contents.entries[school.name] else { return }
                downloads.reserveCapacity(entries.count)
                for entry in entries { count(entry) }
            }
        }
        return SchoolStanding.judge(downloads: downloads, uploads: uploads, reportedRecently: recent, target: target ?? school.target(settings),
                                    profile: school.profile, settings: settings, byGroupRuns: byGroupRuns)
    }
}

extension MeasurementReadModel.Contents {
    /// Takes in one measurement: a single probe's as it is, a group run member's into
    /// its run's sum (a member that measured no download adds none).
    mutating func add(_ entry: MeasurementReadModel.Entry, of school: String, groupRun: GroupRunKey?) {
        guard let groupRun else {
            entries[school, default: []].append(entry)
            return
        }
        groupRuns[school, default: [:]][groupRun, default: MeasurementReadModel.Entry(download: .nan, day: entry.day, upload: .nan)]
            .add(entry)
    }

    /// Drops `school`'s entries of days before `first`: its window has moved on.
    mutating func drop(_ school: String, before first: Int32) {
        if var kept = entries[school], kept.contains(where: { $0.day < first }) {
            kept.removeAll { $0.day < first }
            entries[school] = kept
        }
        if var runs = groupRuns[school], runs.values.contains(where: { $0.day < first }) {
            runs = runs.filter { $0.value.day >= first }
            groupRuns[school] = runs.isEmpty ? nil : runs
        }
    }
}

extension MeasurementReadModel.Entry {
    /// Adds a member's throughput to a group run's sum; NaN (not measured) adds nothing.
    mutating func add(_ member: MeasurementReadModel.Entry) {
        if !member.download.isNaN { download = download.isNaN ? member.download : download + member.download }
        if !member.upload.isNaN { upload = upload.isNaN ? member.upload : upload + member.upload }
    }
}

extension MeasurementReadModel {
    /// Each date of `school`'s window up to `today`, with its medians of single runs and
    /// of group runs' sums: the chart of its page. Closed dates are listed (and shaded),
    /// not measured.
    func daily(of school: SchoolConfig, settings: MeasurementSettings, today: LocalDate) -> [DailyMeasurement] {
        let window = school.measurementWindow(openDays: settings.windowDays, through: today)
        let single = DailyValues(self, school: school.name, groupRuns: false)
        let grouped = school.groups.isEmpty ? DailyValues() : DailyValues(self, school: school.name, groupRuns: true)
        return window.open.enumerated().map { offset, open in
            let date = window.first.adding(days: offset)
            let day = Int32(clamping: date.daysSinceEpoch)
            guard open else { return DailyMeasurement(date: date, open: false, downloadMedianMbps: nil, uploadMedianMbps: nil, count: 0) }
            return DailyMeasurement(date: date, open: true, downloadMedianMbps: single.downloads[day].flatMap(SchoolStanding.median),
                                    uploadMedianMbps: single.uploads[day].flatMap(SchoolStanding.median), count: single.downloads[day]?.count ?? 0,
                                    groupDownloadMedianMbps: grouped.downloads[day].flatMap(SchoolStanding.median),
                                    groupUploadMedianMbps: grouped.uploads[day].flatMap(SchoolStanding.median),
                                    groupCount: grouped.downloads[day]?.count ?? 0)
        }
    }

    /// A school's downloads and uploads by day.
    private struct DailyValues {
        var downloads: [Int32: [Double]] = [:]
        var uploads: [Int32: [Double]] = [:]

        init() {}

        init(_ model: MeasurementReadModel, school: String, groupRuns: Bool) {
            model.entries(of: school, groupRuns: groupRuns) { entry in
                if !entry.download.isNaN { downloads[entry.day, default: []].append(entry.download) }
                if !entry.upload.isNaN { uploads[entry.day, default: []].append(Double(entry.upload)) }
            }
        }
    }

    /// The median download of each date `school` has a measurement on, in its window, of
    /// the measurements that judge it (``standing(of:settings:today:target:uploads:)``).
    func dailyDownloadMedians(of school: SchoolConfig) -> [LocalDate: Double] {
        var medians: [LocalDate: Double] = [:]
        for (day, values) in DailyValues(self, school: school.name, groupRuns: school.judgedByGroupRuns).downloads {
            if let median = SchoolStanding.median(of: values) { medians[LocalDate(daysSinceEpoch: Int(day))] = median }
        }
        return medians
    }
}

extension MeasurementPoint {
    /// The point of a stored result's measurement; nil when it has none or no id.
    init?(_ result: TestResult) {
        guard let stored = result.storedMeasurement else { return nil }
        self.init(stored)
    }

    init(_ stored: StoredMeasurement) {
        self.init(resultID: stored.resultID, school: stored.school, measuredAtMs: stored.measuredAtMs, downloadMbps: stored.measurement.downloadMbps,
                  uploadMbps: stored.measurement.uploadMbps, groupRun: GroupRunKey(group: stored.group, runAt: stored.runAt))
    }
}
