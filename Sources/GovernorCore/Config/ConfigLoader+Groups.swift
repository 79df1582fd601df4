/// A school's `[Group NAME]` sections.
extension ConfigLoader {
    static let groupSectionPrefix = "Group "
    static let groupKeys = ["probes"]

    /// The groups of a school's probes. Errors name the file and line: a probe the
    /// school does not have, a probe in two groups, pull and push probes in one group.
    static func readGroups(_ document: INIDocument, probes: [ProbeConfig], problems: inout [ConfigProblem]) -> [ProbeGroup] {
        let byName = Dictionary(probes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var groups: [ProbeGroup] = []
        var memberOf: [String: ProbeGroup] = [:]
        for section in document.sections where section.name.hasPrefix(groupSectionPrefix) {
            let name = String(section.name.dropFirst(groupSectionPrefix.count)).trimmingASCIIWhitespace()
            var reader = SectionReader(section, in: document, knownKeys: groupKeys)
            defer { problems += reader.problems }
            guard ProbeConfig.isValidID(name) else {
                reader.error("group name '\(name)' is not valid; a group name has \(ProbeConfig.idRule)", line: section.line)
                continue
            }
            if let earlier = groups.first(where: { $0.name == name }) {
                reader.error("group '\(name)' is defined twice in this school (lines \(earlier.line) and \(section.line))", line: section.line)
                continue
            }
            guard reader.entry("probes") != nil else {
                reader.error("[\(section.name)] has no 'probes'; list the probes that test together, such as probes = lab-1, lab-2", line: section.line)
                continue
            }
            var members: [String] = []
            for piece in reader.list("probes") {
                guard let probe = byName[piece.text] else {
                    reader.error("group '\(name)' names probe '\(piece.text)', which this school does not have (its probes: "
                        + probes.prefix(20).map(\.name).joined(separator: ", ") + (probes.count > 20 ? ", …" : "") + ")", line: piece.line)
                    continue
                }
                if let other = memberOf[probe.name] {
                    reader.error("probe '\(probe.name)' is in group '\(other.name)' (line \(other.line)) and in group '\(name)'; "
                        + "a probe belongs to at most one group", line: piece.line)
                    continue
                }
                if members.contains(probe.name) {
                    reader.error("group '\(name)' names probe '\(probe.name)' twice", line: piece.line)
                    continue
                }
                if let first = members.first.flatMap({ byName[$0] }), first.mode != probe.mode {
                    reader.error("group '\(name)' mixes pull probe(s) and push probe(s) ('\(first.name)' is \(first.mode.rawValue), "
                        + "'\(probe.name)' is \(probe.mode.rawValue)); a group's probes are all pull or all push", line: piece.line)
                    continue
                }
                members.append(probe.name)
            }
            if members.count < 2 && !reader.problems.containsError {
                reader.warning("group '\(name)' has \(members.count) probe(s); a group of one tests as a single probe does", line: section.line)
            }
            let group = ProbeGroup(name: name, probes: members, line: section.line)
            for member in members { memberOf[member] = group }
            groups.append(group)
        }
        return groups.filter { $0.probes.count >= 2 }
    }
}
