/// A probe's health at a glance.
public enum ProbeState: String, Codable, Sendable, CaseIterable {
    case up = "UP"
    /// Missed `[Alerts] missed_runs` runs in a row (takes precedence over never seen).
    case down = "DOWN"
    /// Has never contacted the governor and has not been declared DOWN (yet).
    case neverSeen = "NEVER SEEN"
}

/// What every view says about one probe's health: the API, the dashboard,
/// `governor status`, `/metrics` and the alert email all take it from here.
///
/// It is a pure function of the probe's alert state (which the alert judgement
/// keeps, once a second) and its last contact, so two views asked at the same
/// moment cannot disagree.
public struct ProbeHealth: Sendable, Equatable {
    public var state: ProbeState
    /// When the state began: the DOWN verdict, the first contact (or the recovery)
    /// for UP, when the governor first judged the probe for NEVER SEEN. Nil before
    /// the probe's first judgement.
    public var since: UnixTime?
    /// Announced runs missed since the last contact (the alert rule's count).
    public var consecutiveMissed: Int
    public var lastContact: UnixTime?

    public init(state: ProbeState, since: UnixTime?, consecutiveMissed: Int, lastContact: UnixTime?) {
        self.state = state
        self.since = since
        self.consecutiveMissed = consecutiveMissed
        self.lastContact = lastContact
    }

    /// - Parameters:
    ///   - alert: the probe's state from the alert judgement; nil before its first pass.
    ///   - lastContact: the probe's latest contact, if it ever made one.
    public init(alert: ProbeAlertState?, lastContact: UnixTime?) {
        let state: ProbeState = if alert?.status == .down { .down } else if lastContact == nil { .neverSeen } else { .up }
        var since = alert?.since
        if state == .up, let lastContact, alert?.lastContactSeen == nil {
            // Contacted, not judged since: UP from that first contact.
            since = lastContact
        }
        self.init(state: state, since: since, consecutiveMissed: alert?.consecutiveMissed ?? 0, lastContact: lastContact)
    }
}
