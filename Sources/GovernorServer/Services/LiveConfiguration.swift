import GovernorCore
import Synchronization

/// What the server needs to know about one probe on every request. A class: the
/// snapshot's table holds a reference per probe, and a request takes one, where a
/// value of some 120 bytes was copied (and its table's empty slots were as large).
final class ProbeEntry: Sendable {
    let probe: ProbeConfig
    let school: String
    /// SHA-256 of the probe's token (configured as `token_sha256`, or hashed from `token`).
    let tokenDigest: TokenDigest?
    /// Its `[Group NAME]`: every run of it is a group run, started at the governor's instant.
    let group: String?

    init(probe: ProbeConfig, school: String, tokenDigest: TokenDigest?, group: String? = nil) {
        self.probe = probe
        self.school = school
        self.tokenDigest = tokenDigest
        self.group = group
    }
}

/// The configuration the server runs on now, replaced whole on reload.
///
/// Request handlers read a snapshot under a lock held for a pointer copy, so a
/// reload never blocks or tears a request.
final class LiveConfiguration: Sendable {
    /// Immutable and shared: taking a snapshot costs one reference count.
    final class Snapshot: Sendable {
        let configuration: Configuration
        let probes: [String: ProbeEntry]
        let schools: [String: SchoolConfig]
        /// The schools in name order: the order of every paged fleet view.
        let schoolsByName: [SchoolConfig]
        /// The push probes, for the dispatcher's passes four times a second.
        let pushProbes: Set<String>
        /// The schools with push probes, whose windows are stored a little earlier.
        let pushSchools: Set<String>
        /// Each school's target, derived once a configuration (its explanation is text
        /// that a pass over 10,000 schools should not format again each time).
        let targets: [String: SchoolTarget]
        /// Every label key some school carries, in the order first met: what the
        /// dashboard offers to group by.
        let labelKeys: [String]

        /// How `school`'s test output is read: its own `result_format`, or the
        /// governor's for a school no longer configured.
        func resultFormat(of school: String) -> ResultFormat {
            schools[school]?.resultFormat ?? configuration.governor.resultFormat
        }

        init(_ configuration: Configuration) {
            self.configuration = configuration
            var probes: [String: ProbeEntry] = [:]
            probes.reserveCapacity(configuration.schools.reduce(0) { $0 + $1.probes.count })
            var schools: [String: SchoolConfig] = [:]
            schools.reserveCapacity(configuration.schools.count)
            for school in configuration.schools {
                schools[school.name] = school
                let groupOf = school.groupByProbe
                for probe in school.probes {
                    let digest = probe.tokenSHA256.flatMap(ProbeToken.digest(fromHex:)) ?? probe.token.map(ProbeToken.digest)
                    probes[probe.name] = ProbeEntry(probe: probe, school: school.name, tokenDigest: digest, group: groupOf[probe.name]?.name)
                }
            }
            self.probes = probes
            self.schools = schools
            schoolsByName = configuration.schools.sorted { $0.name < $1.name }
            pushProbes = Set(probes.values.filter { $0.probe.mode == .push }.map(\.probe.name))
            pushSchools = Set(probes.values.filter { $0.probe.mode == .push }.map(\.school))
            var keys: [String] = [], seen: Set<String> = []
            for school in configuration.schools {
                for key in school.labels.keys where seen.insert(key).inserted { keys.append(key) }
            }
            labelKeys = keys
            targets = Dictionary(configuration.schools.map { ($0.name, $0.target(configuration.governor.measurement)) }, uniquingKeysWith: { first, _ in first })
        }

        var governor: GovernorSettings { configuration.governor }
    }

    private let state: Mutex<Snapshot>

    init(_ configuration: Configuration) {
        state = Mutex(Snapshot(configuration))
    }

    var snapshot: Snapshot {
        state.withLock { $0 }
    }

    /// Installs `configuration` for every request from now on.
    func replace(with configuration: Configuration) {
        let next = Snapshot(configuration)
        state.withLock { $0 = next }
    }
}
