/// What the governor knows of each probe's egress: the address the measurement
/// servers saw (a measurement's client IP) and the address its requests come from;
/// which probes share one egress (one school's NAT, or a district's proxy); how many
/// tests each egress carried in the last 24 hours (M-Lab rate-limits by address); and
/// which probe ids were seen switching between addresses, the sign of one SD-card
/// image cloned onto several boxes or one token shared by them.
///
/// A pure value, fed observations with their time; ``EgressReadModel`` in the server
/// holds one behind a lock.
public struct EgressLedger: Sendable {
    /// Where an address was seen.
    public enum Source: String, Sendable, Codable, CaseIterable {
        /// A measurement's client IP, as the measurement server saw it.
        case measurement
        /// The address the probe's request came from (or its `X-Forwarded-For`).
        case request
    }

    /// Two switches between addresses of one family within this span is a conflict.
    public static let conflictSpan: UnixTime = 86_400
    public static let conflictSwitches = 2

    /// One source's trail of one family: the address last seen, the switches of the
    /// last ``conflictSpan``, and the latest distinct addresses.
    struct Trail: Sendable {
        var current: EgressAddress
        var switches: [UnixTime] = []
        var recent: [EgressAddress]

        init(_ address: EgressAddress) {
            current = address
            recent = [address]
        }

        /// - Returns: whether the address differs from the one seen before.
        mutating func see(_ address: EgressAddress, at time: UnixTime) -> Bool {
            guard address != current else { return false }
            current = address
            switches.removeAll { $0 <= EgressLedger.spanStart(time) }
            // Enough to tell a conflict and to show how busy it is; bounded by a cloned
            // probe that switches at every request.
            if switches.count < 64 { switches.append(time) }
            recent.removeAll { $0 == address }
            recent.insert(address, at: 0)
            if recent.count > 4 { recent.removeLast() }
            return true
        }
    }

    struct ProbeEntry: Sendable {
        var school: String
        var request: (address: EgressAddress, at: UnixTime)?
        var measured: (address: EgressAddress, at: UnixTime)?
        var trails: [TrailKey: Trail] = [:]

        /// The egress: the measured address when there is one (the address the
        /// platform limits), else the address requests come from.
        var egress: EgressAddress? { measured?.address ?? request?.address }
    }

    struct TrailKey: Hashable, Sendable {
        var source: Source
        var family: EgressAddress.Family
    }

    /// The tests an egress carried, by hour, over the last 24 hours.
    struct HourlyCounts: Sendable {
        var hours: [Int64] = []
        var counts: [Int] = []

        mutating func add(hour: Int64) {
            if let index = hours.lastIndex(of: hour) {
                counts[index] += 1
            } else {
                hours.append(hour)
                counts.append(1)
            }
            while let first = hours.first, first <= hour - 24 {
                hours.removeFirst()
                counts.removeFirst()
            }
        }

        func total(sinceHour first: Int64) -> Int {
            zip(hours, counts).reduce(0) { $0 + ($1.0 >= first ? $1.1 : 0) }
        }
    }

    private var probes: [String: ProbeEntry] = [:]
    /// The probes on each egress, in name order: a district's proxy may carry thousands,
    /// and a page lists the first few of them for each of its probes.
    private var sharing: [EgressAddress: [String]] = [:]
    private var tests: [EgressAddress: HourlyCounts] = [:]
    /// Egresses that went over a budget when counted; checked again when asked.
    private var overBudgetCandidates: Set<EgressAddress> = []
    /// Probes with a switch in the last ``conflictSpan``, checked again when asked.
    private var conflictCandidates: Set<String> = []
    private var sharedEgressCount = 0
    private var sharingProbeCount = 0

    public init() {}

    /// Records that `probe` of `school` was seen at `address`.
    public mutating func observe(probe: String, school: String, address: EgressAddress, source: Source, at time: UnixTime) {
        // A probe asking from where it asked before (nearly every request): the time
        // changes in place, without copying the entry's trails.
        if source == .request, let slot = probes.index(forKey: probe), probes.values[slot].school == school,
           let seen = probes.values[slot].request, seen.address == address, probes.values[slot].trails[TrailKey(source: .request, family: address.family)]?.current == address {
            if seen.at < time { probes.values[slot].request = (address, time) }
            return
        }
        var entry = probes[probe] ?? ProbeEntry(school: school)
        entry.school = school
        let before = entry.egress
        switch source {
        case .request:
            if let seen = entry.request, seen.at > time { break }
            entry.request = (address, time)
        case .measurement:
            if let seen = entry.measured, seen.at > time { break }
            entry.measured = (address, time)
        }
        let key = TrailKey(source: source, family: address.family)
        if var trail = entry.trails[key] {
            if trail.see(address, at: time) { conflictCandidates.insert(probe) }
            entry.trails[key] = trail
        } else {
            entry.trails[key] = Trail(address)
        }
        let after = entry.egress
        probes[probe] = entry
        guard before != after else { return }
        if let before { leave(before, probe) }
        if let after { join(after, probe) }
    }

    /// Adds `probe` to the probes on `egress`, keeping the shared counts.
    private mutating func join(_ egress: EgressAddress, _ probe: String) {
        let count = sharing[egress]?.count ?? 0
        let index = Self.insertionIndex(of: probe, in: sharing[egress] ?? [])
        if let members = sharing[egress], index < members.count, members[index] == probe { return }
        sharing[egress, default: []].insert(probe, at: index)
        if count == 1 {
            sharedEgressCount += 1
            sharingProbeCount += 2
        } else if count > 1 {
            sharingProbeCount += 1
        }
    }

    private mutating func leave(_ egress: EgressAddress, _ probe: String) {
        guard let members = sharing[egress] else { return }
        let index = Self.insertionIndex(of: probe, in: members)
        guard index < members.count, members[index] == probe else { return }
        let count = members.count
        sharing[egress]?.remove(at: index)
        if count == 2 {
            sharedEgressCount -= 1
            sharingProbeCount -= 2
        } else if count > 2 {
            sharingProbeCount -= 1
        }
        if sharing[egress]?.isEmpty == true { sharing[egress] = nil }
    }

    /// Counts one test of `probe` at `time` against its egress (`measured`, when the
    /// test reported one, else the probe's own), and notes whether that egress went
    /// over `budget`.
    /// - Returns: the egress counted against, if the probe has one.
    @discardableResult
    public mutating func countTest(of probe: String, measured: EgressAddress?, at time: UnixTime, budget: Int?) -> EgressAddress? {
        guard let egress = measured ?? probes[probe]?.egress else { return nil }
        let hour = Self.hour(of: time)
        tests[egress, default: HourlyCounts()].add(hour: hour)
        if let budget, (tests[egress]?.total(sinceHour: hour - 23) ?? 0) > budget { overBudgetCandidates.insert(egress) }
        return egress
    }

    /// Looks at every egress again after the budget changed (a reload).
    public mutating func rebudget(_ budget: Int?, now: UnixTime) {
        overBudgetCandidates = []
        guard let budget else { return }
        let first = Self.hour(of: now) - 23
        for (egress, counts) in tests where counts.total(sinceHour: first) > budget { overBudgetCandidates.insert(egress) }
    }

    /// Forgets the probes that left the configuration, and notes the school of those that moved.
    public mutating func keep(only schools: [String: String]) {
        for probe in Array(probes.keys) {
            guard let school = schools[probe] else {
                if let egress = probes[probe]?.egress { leave(egress, probe) }
                probes[probe] = nil
                conflictCandidates.remove(probe)
                continue
            }
            probes[probe]?.school = school
        }
    }

    // MARK: - Reading

    /// One probe's egress as the views show it.
    public struct ProbeView: Sendable, Equatable {
        public var address: EgressAddress
        public var source: Source
        public var requestAddress: EgressAddress?
        public var measuredAddress: EgressAddress?
        /// Every other probe on the same egress, by name, with its school.
        public var sharedWith: [(probe: String, school: String)]
        /// How many other probes share it, listed or not.
        public var sharedCount: Int
        public var testsLast24h: Int
        public var conflict: Conflict?

        public static func == (lhs: ProbeView, rhs: ProbeView) -> Bool {
            lhs.address == rhs.address && lhs.source == rhs.source && lhs.requestAddress == rhs.requestAddress
                && lhs.measuredAddress == rhs.measuredAddress && lhs.testsLast24h == rhs.testsLast24h && lhs.sharedCount == rhs.sharedCount && lhs.conflict == rhs.conflict
                && lhs.sharedWith.elementsEqual(rhs.sharedWith) { $0.probe == $1.probe && $0.school == $1.school }
        }
    }

    /// A probe id seen switching between addresses: most likely one image on several boxes.
    public struct Conflict: Sendable, Equatable {
        public var source: Source
        /// The addresses seen, latest first (at most four).
        public var addresses: [EgressAddress]
        /// Switches in the last ``EgressLedger/conflictSpan`` (counted up to 64).
        public var switches: Int
        /// The first of those switches.
        public var since: UnixTime

        public init(source: Source, addresses: [EgressAddress], switches: Int, since: UnixTime) {
            self.source = source
            self.addresses = addresses
            self.switches = switches
            self.since = since
        }
    }

    /// Where `name` is, or goes, in the sorted `names`.
    static func insertionIndex(of name: String, in names: [String]) -> Int {
        var low = 0, high = names.count
        while low < high {
            let middle = low + (high - low) / 2
            if names[middle] < name { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// - Parameter sharersLimit: at most this many of the probes sharing the egress are listed.
    public func view(of probe: String, now: UnixTime, sharersLimit: Int = 5) -> ProbeView? {
        guard let entry = probes[probe], let egress = entry.egress else { return nil }
        let members = sharing[egress] ?? []
        let others = members.lazy.filter { $0 != probe }.prefix(sharersLimit)
        return ProbeView(address: egress, source: entry.measured != nil ? .measurement : .request,
                         requestAddress: entry.request?.address, measuredAddress: entry.measured?.address,
                         sharedWith: others.map { ($0, probes[$0]?.school ?? "") }, sharedCount: max(0, members.count - 1),
                         testsLast24h: testsLastDay(on: egress, now: now), conflict: conflict(of: probe, now: now))
    }

    /// How many other probes share `probe`'s egress.
    public func sharerCount(of probe: String) -> Int {
        guard let egress = probes[probe]?.egress else { return 0 }
        return max(0, (sharing[egress]?.count ?? 1) - 1)
    }

    public func conflict(of probe: String, now: UnixTime) -> Conflict? {
        guard let entry = probes[probe] else { return nil }
        var found: Conflict?
        for (key, trail) in entry.trails {
            let switches = trail.switches.filter { $0 > Self.spanStart(now) }
            guard switches.count >= Self.conflictSwitches, let first = switches.first else { continue }
            if found == nil || switches.count > found!.switches {
                found = Conflict(source: key.source, addresses: trail.recent, switches: switches.count, since: first)
            }
        }
        return found
    }

    /// The probes in an identity conflict now, by name.
    public func conflicts(now: UnixTime) -> [(probe: String, school: String, conflict: Conflict)] {
        conflictCandidates.sorted().compactMap { probe in
            conflict(of: probe, now: now).map { (probe, probes[probe]?.school ?? "", $0) }
        }
    }

    /// Drops the candidates whose switches are all older than the span: called now and
    /// then, so that the lists asked for stay proportional to what is current.
    public mutating func prune(now: UnixTime, budget: Int?) {
        conflictCandidates = conflictCandidates.filter { conflict(of: $0, now: now) != nil }
        let first = Self.hour(of: now) - 23
        overBudgetCandidates = overBudgetCandidates.filter { egress in
            guard let budget else { return false }
            return (tests[egress]?.total(sinceHour: first) ?? 0) > budget
        }
        tests = tests.filter { $0.value.hours.last.map { $0 >= first } ?? false }
    }

    /// One egress over the daily budget.
    public struct BusyEgress: Sendable, Equatable {
        public var address: EgressAddress
        public var tests: Int
        /// The probes on it now, by name (at most 20).
        public var probes: [String]
        public var probeCount: Int
    }

    /// The egresses that carried more than `budget` tests in the last 24 hours, busiest first.
    public func overBudget(_ budget: Int?, now: UnixTime) -> [BusyEgress] {
        guard let budget else { return [] }
        return overBudgetCandidates.compactMap { egress -> BusyEgress? in
            let count = testsLastDay(on: egress, now: now)
            guard count > budget else { return nil }
            let on = sharing[egress] ?? []
            return BusyEgress(address: egress, tests: count, probes: Array(on.prefix(20)), probeCount: on.count)
        }.sorted { $0.tests != $1.tests ? $0.tests > $1.tests : $0.address < $1.address }
    }

    /// The egresses that more than one probe uses, and how many probes use them.
    public var sharedEgresses: (egresses: Int, probes: Int) { (sharedEgressCount, sharingProbeCount) }

    public func testsLastDay(on egress: EgressAddress, now: UnixTime) -> Int {
        tests[egress]?.total(sinceHour: Self.hour(of: now) - 23) ?? 0
    }

    static func hour(of time: UnixTime) -> Int64 {
        time / 3600 - (time % 3600 < 0 ? 1 : 0)
    }

    /// The start of the conflict span that ends at `time`, without trapping on any time.
    static func spanStart(_ time: UnixTime) -> UnixTime {
        let (start, overflow) = time.subtractingReportingOverflow(conflictSpan)
        return overflow ? .min : start
    }
}
