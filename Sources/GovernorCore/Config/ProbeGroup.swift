/// `[Group NAME]` in a school file: probes of the school that test together, at one
/// instant, instead of one after the other.
///
/// A school's tests are spaced so that they never share its uplink; a group is the
/// exception an operator asks for, to see a link faster than any one probe's port
/// (a 1 Gbit/s line behind 100 Mbit/s ports or Wi-Fi), or to compare two links at
/// once. The generator places one slot per run for the group, and every member runs
/// in it; the school's spacing applies between groups and single probes alike.
public struct ProbeGroup: Sendable, Hashable {
    public var name: String
    /// Its probes, by name, in the order given.
    public var probes: [String]
    /// The line of its section.
    public var line: Int

    public init(name: String, probes: [String], line: Int) {
        self.name = name
        self.probes = probes
        self.line = line
    }
}

extension SchoolConfig {
    /// What the generator places, in order: each probe on its own, or a group (at the
    /// place of its first probe) as one unit whose probes share every run time. A
    /// school without groups has one unit per probe, so its draws are unchanged.
    public var units: [[String]] {
        guard !groups.isEmpty else { return probes.map { [$0.name] } }
        let groupOf = groupByProbe
        var placed: Set<String> = []
        var units: [[String]] = []
        for probe in probes {
            if let group = groupOf[probe.name] {
                if placed.insert(group.name).inserted { units.append(group.probes) }
            } else {
                units.append([probe.name])
            }
        }
        return units
    }

    /// Each grouped probe's group.
    public var groupByProbe: [String: ProbeGroup] {
        var byProbe: [String: ProbeGroup] = [:]
        for group in groups {
            for probe in group.probes { byProbe[probe] = group }
        }
        return byProbe
    }

    /// Whether the school's standing is judged by its group runs' summed throughput:
    /// when every probe it has is in a group, no probe measures its line alone. A
    /// school with a single probe is judged by its single probes' measurements, the
    /// figure its target was set for.
    public var judgedByGroupRuns: Bool {
        guard !groups.isEmpty else { return false }
        let grouped = groupByProbe
        return probes.allSatisfy { grouped[$0.name] != nil }
    }

    /// Slots in each window: one per unit and run. A group's tests share theirs.
    public var slotsPerWindow: Int { units.count * timing.runsPerPeriod }
}
