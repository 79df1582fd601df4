import GovernorCore
import GovernorViews
import GovernorWire
import HTTPTypes
import Hummingbird

/// Which schools and probes a fleet view lists, one page at a time: the query of
/// `GET /v1/status`, `GET /v1/schools` and the dashboard's `/`.
///
/// Schools are listed in name order. `cursor` is the name of the last school of the
/// previous page (the `next_cursor` of its answer), so that a page stays where it is
/// when a reload adds or removes schools before it. The filters select probes; a
/// school is listed when at least one of its probes is selected, with only those.
struct StatusQuery: Sendable, Equatable {
    static let defaultLimit = 50
    static let maxLimit = 500

    var limit = defaultLimit
    /// List the schools whose names sort after this one.
    var cursor: String?
    /// Only probes in this state.
    var state: ProbeState?
    /// Only schools whose name contains this, ignoring case.
    var school: String?
    /// Only probes that need the operator's attention (``FleetStatus/needsAttention(_:health:latest:now:)``).
    var attention = false
    /// Only schools whose measurements stand so (`below`, `poor`, `no-data`, `meets`).
    var measurement: MeasurementState?
    /// Only probes that share their egress, or whose id is seen on switching addresses.
    var egress: EgressFilter?
    /// Only schools with all these labels (`label=isp=acme-telecom`, repeatable).
    var labels: [SchoolLabels.Label] = []

    enum EgressFilter: String, Sendable {
        case shared, conflict
    }

    /// No filter: every probe of every school (paged all the same).
    var selectsEverything: Bool { state == nil && school == nil && !attention && measurement == nil && egress == nil && labels.isEmpty }

    /// Whether a filter selects probes (a school is then listed only with a match).
    var filtersProbes: Bool { state != nil || attention || egress != nil }

    init(limit: Int = defaultLimit, cursor: String? = nil, state: ProbeState? = nil, school: String? = nil, attention: Bool = false) {
        self.limit = limit
        self.cursor = cursor
        self.state = state
        self.school = school
        self.attention = attention
    }

    /// Reads the query string; a bad value is a 400 that names the parameter.
    init(_ parameters: Parameters) throws(APIError) {
        if let text = parameters.get("limit") {
            guard let limit = Int(text), (1...Self.maxLimit).contains(limit) else {
                throw APIError.badRequest("'limit' is '\(text)'; expected a whole number from 1 to \(Self.maxLimit)")
            }
            self.limit = limit
        }
        if let cursor = parameters.get("cursor"), !cursor.isEmpty { self.cursor = cursor }
        if let text = parameters.get("state"), !text.isEmpty {
            let wanted = text.uppercased().replacingOccurrences(of: "_", with: " ")
            guard let state = ProbeState(rawValue: wanted) else {
                throw APIError.badRequest("'state' is '\(text)'; expected UP, DOWN or NEVER_SEEN")
            }
            self.state = state
        }
        if let school = parameters.get("school")?.trimmingCharacters(in: .whitespaces), !school.isEmpty { self.school = school }
        if let text = parameters.get("measurement"), !text.isEmpty {
            guard let state = MeasurementState(rawValue: text.lowercased().replacingOccurrences(of: "_", with: "-")) else {
                throw APIError.badRequest("'measurement' is '\(text)'; expected meets, below, poor or no-data")
            }
            measurement = state
        }
        for text in parameters.getAll("label") where !text.isEmpty {
            switch SchoolLabels.parse(text) {
            case .success(let label): labels.append(label)
            case .failure(let problem): throw APIError.badRequest("'label' is '\(text)': \(problem.message)")
            }
        }
        if let text = parameters.get("egress"), !text.isEmpty {
            guard let filter = EgressFilter(rawValue: text.lowercased()) else {
                throw APIError.badRequest("'egress' is '\(text)'; expected shared or conflict")
            }
            egress = filter
        }
        if let text = parameters.get("attention") {
            switch text.lowercased() {
            case "true", "1", "yes": attention = true
            case "false", "0", "no", "": attention = false
            default: throw APIError.badRequest("'attention' is '\(text)'; expected true or false")
            }
        }
    }
}

/// A page of a fleet view, and how many schools and probes the whole query matched.
struct StatusSelection: Sendable {
    var schools: [(school: SchoolConfig, probes: [ProbeConfig])]
    var matchedSchools: Int
    var matchedProbes: Int
    /// The cursor of the next page; nil on the last.
    var nextCursor: String?
}

extension StatusSelection {
    /// What an answer says of its page.
    func page(limit: Int) -> StatusReport.Page {
        StatusReport.Page(limit: limit, matchedSchools: matchedSchools, matchedProbes: matchedProbes, nextCursor: nextCursor)
    }
}
