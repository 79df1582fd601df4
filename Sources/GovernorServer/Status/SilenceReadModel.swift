import GovernorCore
import Synchronization

/// The silences in force, to come, and ended in the last day, in memory: what the
/// alert judgement, the Alertmanager service and the status views ask whether a
/// probe or a school is silenced. ``SilenceService`` reads them from the state every
/// few seconds (so that a silence made on another governor counts here too); the
/// API puts its own at once.
final class SilenceReadModel: Sendable {
    private let silences = Mutex<[Silence]>([])

    func replace(with list: [Silence]) {
        silences.withLock { $0 = list }
    }

    /// A silence just made or removed here.
    func put(_ silence: Silence) {
        silences.withLock { list in
            if let index = list.firstIndex(where: { $0.id == silence.id }) { list[index] = silence } else { list.append(silence) }
        }
    }

    var all: [Silence] { silences.withLock { $0 } }

    /// The silence in force that covers `probe` of `school`, if any (the one that ends last).
    func covering(probe: String, of school: SchoolConfig, at now: UnixTime) -> Silence? {
        silences.withLock { list in
            list.filter { $0.covers(probe: probe, school: school, at: now) }.max { $0.endedAt < $1.endedAt }
        }
    }

    /// Whether the school's own alerts (school DOWN, below target) are silenced: a
    /// silence of the school or of one of its labels, or silences of all its probes.
    func silencesSchool(_ school: SchoolConfig, at now: UnixTime) -> Bool {
        silences.withLock { list in
            let active = list.filter { $0.isActive(at: now) }
            if active.contains(where: {
                switch $0.matcher {
                case .school, .label: $0.matcher.touches(school)
                case .probe: false
                }
            }) { return true }
            return !school.probes.isEmpty && school.probes.allSatisfy { probe in active.contains { $0.matcher.covers(probe: probe.name, school: school) } }
        }
    }
}
