/// Whether a probe is answering: UP, or DOWN after `missed_runs` missed runs in a row.
public struct ProbeAlertState: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case up = "UP"
        case down = "DOWN"
    }

    public var status: Status
    /// When the current status began.
    public var since: UnixTime
    /// Missed runs since the probe's last contact.
    public var consecutiveMissed: Int
    /// The run times of the current streak of misses (the latest 50).
    public var missedRuns: [UnixTime]
    /// Every run at or before this time has been judged.
    public var judgedThrough: UnixTime
    /// The newest contact already taken into account.
    public var lastContactSeen: UnixTime?
    /// When the last DOWN alert or reminder was queued.
    public var lastAlertAt: UnixTime?
    /// A change whose email is held back briefly, so that the probes of a school that
    /// go down (or come back) together get one email between them.
    public var heldNotice: HeldNotice?

    public enum HeldNotice: Sendable, Codable, Equatable {
        case down(heldSince: UnixTime)
        case up(heldSince: UnixTime, downSince: UnixTime, missedCount: Int)

        public var heldSince: UnixTime {
            switch self {
            case .down(let since), .up(let since, _, _): since
            }
        }
    }

    /// A probe judged for the first time: UP (since its last contact, when it made
    /// one), with nothing missed and nothing before `now` judged.
    public static func new(at now: UnixTime, lastContact: UnixTime?) -> ProbeAlertState {
        ProbeAlertState(status: .up, since: lastContact ?? now, consecutiveMissed: 0, missedRuns: [], judgedThrough: now, lastContactSeen: lastContact, lastAlertAt: nil)
    }
}

/// What an evaluation found for one probe.
public enum ProbeTransition: Sendable, Equatable {
    /// The probe reached `missed_runs` misses in a row.
    case wentDown(missedRuns: [UnixTime])
    /// Still DOWN, and `repeat` has passed since the last alert.
    case stillDown(missedRuns: [UnixTime], downSince: UnixTime)
    /// The first contact after being DOWN.
    case recovered(downSince: UnixTime, missedCount: Int)
}

/// The missed-run rules, as a pure function of the schedule, the contacts and the time.
///
/// A run at T is missed when no contact arrived between T and T + grace; it is judged
/// once T + grace has passed. A contact ends a streak of misses (and a DOWN).
public struct MissTracker: Sendable {
    public var threshold: Int
    /// Seconds after a run time within which a contact counts for that run.
    public var graceSeconds: Int
    /// Seconds between reminders while DOWN; nil for none.
    public var repeatSeconds: Int?

    public init(threshold: Int, graceSeconds: Int, repeatSeconds: Int? = nil) {
        self.threshold = max(1, threshold)
        self.graceSeconds = max(0, graceSeconds)
        self.repeatSeconds = repeatSeconds
    }

    /// Advances `state` to `now`.
    ///
    /// - Parameters:
    ///   - runs: the probe's run times after `state.judgedThrough`, ascending (more may
    ///     be passed; only those whose grace has passed are judged).
    ///   - lastContact: the probe's latest contact, if any.
    /// - Returns: the transitions to announce, in order.
    public func evaluate(_ state: inout ProbeAlertState, runs: [UnixTime], lastContact: UnixTime?, now: UnixTime) -> [ProbeTransition] {
        var transitions: [ProbeTransition] = []
        let contact = lastContact ?? .min
        if let lastContact, lastContact > (state.lastContactSeen ?? .min) {
            // Heard from since the last evaluation: the streak ends, a DOWN probe is UP again.
            if state.status == .down {
                transitions.append(.recovered(downSince: state.since, missedCount: state.consecutiveMissed))
                state.status = .up
                state.since = lastContact
            } else if state.lastContactSeen == nil {
                state.since = lastContact  // the first contact: UP from then, no longer never seen
            }
            state.consecutiveMissed = 0
            state.missedRuns = []
            state.lastContactSeen = lastContact
        }
        for run in runs where run > state.judgedThrough && run + UnixTime(graceSeconds) <= now {
            state.judgedThrough = run
            if contact >= run {
                state.consecutiveMissed = 0
                state.missedRuns = []
                continue
            }
            state.consecutiveMissed += 1
            state.missedRuns = Array((state.missedRuns + [run]).suffix(50))
            if state.status == .up && state.consecutiveMissed >= threshold {
                state.status = .down
                state.since = run + UnixTime(graceSeconds)
                state.lastAlertAt = now
                transitions.append(.wentDown(missedRuns: state.missedRuns))
            }
        }
        if state.status == .down, let repeatSeconds, let last = state.lastAlertAt, now - last >= UnixTime(repeatSeconds),
           !transitions.contains(where: { if case .wentDown = $0 { true } else { false } }) {
            state.lastAlertAt = now
            transitions.append(.stillDown(missedRuns: state.missedRuns, downSince: state.since))
        }
        return transitions
    }
}
