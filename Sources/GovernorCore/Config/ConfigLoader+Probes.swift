import Foundation

/// A school's `[Probes]` and its `[Probe NAME]` sections.
extension ConfigLoader {
    static let probesKeys = ["ids", "addresses"]
    static let probeSectionPrefix = "Probe "

    static func readProbes(_ document: INIDocument, problems: inout [ConfigProblem]) -> [ProbeConfig] {
        guard let section = document.section("Probes") else {
            problems.append(.error(document.file, "missing section [Probes] (with 'ids' for pull probes or 'addresses' for push probes)"))
            return []
        }
        var reader = SectionReader(section, in: document, knownKeys: probesKeys)
        defer { problems += reader.problems }
        var probes: [ProbeConfig] = []
        for piece in reader.list("ids") {
            guard ProbeConfig.isValidID(piece.text) else {
                reader.error("probe id '\(piece.text)' is not valid; a probe id has \(ProbeConfig.idRule)", line: piece.line)
                continue
            }
            probes.append(ProbeConfig(name: piece.text, mode: .pull, line: piece.line))
        }
        for piece in reader.list("addresses") {
            guard let address = ProbeAddress(parsing: piece.text) else {
                reader.error("probe address '\(piece.text)' is not valid; expected an IPv4 or IPv6 address or a host name, optionally as user@host:port", line: piece.line)
                continue
            }
            probes.append(ProbeConfig(name: piece.text, mode: .push, address: address, line: piece.line))
        }
        var seen: [String: Int] = [:]
        for probe in probes {
            let key = identity(of: probe)
            if let first = seen[key] {
                reader.error("probe '\(probe.name)' is listed twice in this school (lines \(first) and \(probe.line))", line: probe.line)
            } else {
                seen[key] = probe.line
            }
        }
        if probes.isEmpty && !reader.problems.containsError {
            reader.error("[Probes] lists no probe; add 'ids' (pull probes) or 'addresses' (push probes)", line: section.line)
        }
        return probes
    }

    /// Applies `[Probe NAME]` sections to the probes they name.
    static func applyProbeSections(_ document: INIDocument, to probes: inout [ProbeConfig], problems: inout [ConfigProblem]) {
        // By name, once: a school of many probes is read in time proportional to its size.
        let indices = Dictionary(probes.indices.map { (probes[$0].name, $0) }, uniquingKeysWith: { first, _ in first })
        for section in document.sections where section.name.hasPrefix(probeSectionPrefix) {
            let name = String(section.name.dropFirst(probeSectionPrefix.count)).trimmingASCIIWhitespace()
            var reader = SectionReader(section, in: document, knownKeys: ProbeConfig.settingKeys)
            defer { problems += reader.problems }
            guard let index = indices[name] else {
                reader.warning("section [\(section.name)] names no probe of this school; its settings are ignored", line: section.line)
                continue
            }
            var settings: [String: String] = [:]
            for entry in section.entries where ProbeConfig.settingKeys.contains(entry.key) {
                settings[entry.key] = entry.value
            }
            if let hash = settings["token_sha256"] {
                if isSHA256Hex(hash) {
                    settings["token_sha256"] = hash.lowercased()
                } else {
                    reader.error("'token_sha256' of probe '\(name)' must be 64 hexadecimal digits (as 'governor token \(name)' prints)", line: section["token_sha256"]?.line)
                }
            }
            if let port = settings["port"], Int(port).map({ ConfigLimits.port.contains($0) }) != true {
                reader.error("'port' of probe '\(name)' is '\(port)'; expected a number from 1 to 65535", line: section["port"]?.line)
            }
            for (key, range) in [("timeout", ConfigLimits.sshTimeout), ("connect_timeout", ConfigLimits.connectTimeout)] {
                if let value = settings[key], DurationValue.seconds(value).map(range.contains) != true {
                    reader.error("'\(key)' of probe '\(name)' is '\(value)'; expected a duration \(ConfigLimits.describe(seconds: range))",
                                 line: section[key]?.line)
                }
            }
            if let check = settings["host_key_check"], HostKeyCheck(rawValue: check) == nil {
                reader.error("'host_key_check' of probe '\(name)' is '\(check)'; expected strict or accept-new", line: section["host_key_check"]?.line)
            }
            probes[index].settings = settings
        }
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.allSatisfy(\.isHexDigit)
    }
}
