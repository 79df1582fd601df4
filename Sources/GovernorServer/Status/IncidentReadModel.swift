import GovernorCore
import Synchronization

/// The incidents open and those of the last week, in memory: what `/v1/incidents`,
/// the dashboard, `/v1/status` and the Alertmanager service show. The governor that
/// judges puts each change as it stores it; the others read them from the state
/// every few seconds, so every governor shows the same incidents.
final class IncidentReadModel: Sendable {
    /// How long a closed incident stays listed.
    static let keptSeconds: UnixTime = 7 * 86_400

    /// Newest first.
    private let incidents = Mutex<[Incident]>([])

    func replace(with list: [Incident]) {
        incidents.withLock { $0 = list.sorted { ($0.id ?? 0) > ($1.id ?? 0) } }
    }

    /// Incidents stored by this governor just now.
    func put(_ changed: [Incident], now: UnixTime) {
        incidents.withLock { list in
            for incident in changed {
                if let index = list.firstIndex(where: { $0.id == incident.id }) { list[index] = incident } else { list.append(incident) }
            }
            list.removeAll { $0.closedAt.map { now - $0 > Self.keptSeconds } ?? false }
            list.sort { ($0.id ?? 0) > ($1.id ?? 0) }
        }
    }

    /// Newest first.
    var all: [Incident] { incidents.withLock { $0 } }

    var open: [Incident] { incidents.withLock { $0.filter(\.isOpen) } }

    func incident(id: Int64) -> Incident? {
        incidents.withLock { $0.first { $0.id == id } }
    }

    /// The open incident a school belongs to.
    func openIncident(of school: String) -> Incident? {
        incidents.withLock { $0.first { $0.isOpen && $0.schools.contains(school) } }
    }
}
