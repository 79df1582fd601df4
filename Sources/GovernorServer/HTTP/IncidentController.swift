import GovernorCore
import GovernorWire
import Hummingbird

/// `GET /v1/incidents` and `GET /v1/incidents/{id}` under the operator token: the
/// incidents every governor on the state shows alike (``IncidentReadModel``).
struct IncidentController: Sendable {
    let live: LiveConfiguration
    let incidents: IncidentReadModel

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.group().add(middleware: OperatorAuthenticator(live: live))
            .get("/v1/incidents", use: list)
            .get("/v1/incidents/:id", use: one)
    }

    /// The open ones, then those closed in the last week, newest first.
    @Sendable func list(request: Request, context: GovernorRequestContext) async throws -> IncidentList {
        IncidentList(incidents: Self.ordered(incidents.all).map(IncidentView.init))
    }

    @Sendable func one(request: Request, context: GovernorRequestContext) async throws -> IncidentView {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.badRequest("'\(text)' is not an incident id; expected a whole number such as 7") }
        guard let incident = incidents.incident(id: id) else {
            throw APIError.notFound("no incident \(id): incidents are listed for a week after they close (GET /v1/incidents)")
        }
        return IncidentView(incident)
    }

    /// Open first, then closed; newest first within each.
    static func ordered(_ list: [Incident]) -> [Incident] {
        list.filter(\.isOpen) + list.filter { !$0.isOpen }
    }
}
