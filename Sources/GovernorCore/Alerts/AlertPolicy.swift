public import HeapModule

/// The fleet as the alert rule sees it: which school a probe is in, and each school.
public protocol AlertFleet {
    /// The school of the probe named `probe`, nil for a probe the configuration lacks.
    func school(ofProbe probe: String) -> SchoolConfig?
    func school(named name: String) -> SchoolConfig?
    /// Every configured probe's name.
    func probeNames() -> [String]
}

/// What the alert rule carries from one pass to the next: each probe's state, when
/// the last pass was, the reminders due, the schools with a notice held back.
public struct AlertMemory: Sendable {
    public var states: [String: ProbeAlertState]
    /// The instant of the last pass: runs whose grace ends after it are due next.
    public var lastPass: UnixTime
    /// When DOWN probes are due a reminder (`[Alerts] repeat`), earliest first.
    public var reminders = Heap<Due>()
    /// Schools with a notice held back.
    public var heldSchools: Set<String> = []

    public init(states: [String: ProbeAlertState], lastPass: UnixTime) {
        self.states = states
        self.lastPass = lastPass
    }

    public struct Due: Comparable, Sendable {
        public var instant: UnixTime
        public var probe: String

        public init(instant: UnixTime, probe: String) {
            self.instant = instant
            self.probe = probe
        }

        public static func < (lhs: Due, rhs: Due) -> Bool { (lhs.instant, lhs.probe) < (rhs.instant, rhs.probe) }
    }
}

/// What one pass decided: the states to store, the notices to send, what to log.
public struct AlertOutcome: Sendable {
    /// The states that changed in judgement (``ProbeAlertState/differsInJudgement(from:)``), with each probe's school.
    public var changed: [String: (school: String, state: ProbeAlertState)] = [:]
    /// Probes the configuration no longer has: their states are forgotten.
    public var removed: Set<String> = []
    /// The notices to send now, by school, in the order they were decided.
    public var notices: [String: [Notice]] = [:]
    /// Every transition the rule saw, held back or not, for the log.
    public var transitions: [Notice] = []
    /// Runs judged in this pass and found missed.
    public var missedRuns = 0

    public init() {}

    public struct Notice: Sendable, Equatable {
        public var probe: String
        public var school: String
        public var transition: ProbeTransition

        public init(probe: String, school: String, transition: ProbeTransition) {
            self.probe = probe
            self.school = school
            self.transition = transition
        }
    }
}

/// The missed-run alert rule for the whole fleet, as a value: from the stored states,
/// what was observed (contacts, stored runs) and the clock, the new states and the
/// notices to send. No I/O: the alert service around it holds the loop, the lease,
/// the reads and the writes, and turns notices into email.
///
/// The rule, per probe, is ``MissTracker``'s. Around it:
/// - **Due probes.** A pass judges only the probes something is due for: a run whose
///   grace ended since the last pass, a contact that can change its state
///   (``contactMatters(_:)``), a reminder, a held notice; or every probe, at start-up,
///   after a reload, or when asked. Judging any other probe would change nothing.
/// - **The whole-school hold.** A probe of a school with several probes that goes DOWN
///   is held back, so that a school whose probes all go down together (its link, not
///   its probes) gets one email. The hold ends when all are down or all up, when
///   another probe of the school shows the link works, or after the school's longest
///   window (at most 15 minutes). A probe back before its DOWN went out is not
///   mentioned; a school that was down as a whole tells of its recoveries together.
/// - **The incident wait.** In a fleet that can have incidents (``IncidentPolicy``),
///   a school's DOWN is held `incident_wait` after the school went down as a whole
///   (a school of one probe too), so that the incident it may belong to forms before
///   its own email would go out.
/// - **Closed days.** No reminder on a day the school's calendar closes.
///
/// The steps are separate so that the service can let other work run between
/// probes; ``pass(_:fleet:observed:lastContact:)`` runs them all at once.
public struct AlertPolicy: Sendable {
    public var settings: AlertSettings
    /// `incident_wait` when the fleet can have incidents, else nil.
    public var incidentWaitSeconds: UnixTime?

    public init(settings: AlertSettings, incidentWaitSeconds: UnixTime? = nil) {
        self.settings = settings
        self.incidentWaitSeconds = incidentWaitSeconds
    }

    /// What one pass observes.
    public struct Observed: Sendable {
        public var now: UnixTime
        /// Judge every probe: at start-up, after a reload, or when asked.
        public var everyone: Bool
        /// Probes heard from since the last pass.
        public var contacted: Set<String>
        /// Each probe's stored runs from ``judgedFrom(_:schools:now:catchUp:)`` through `now`.
        public var runs: [String: [UnixTime]]

        public init(now: UnixTime, everyone: Bool, contacted: Set<String>, runs: [String: [UnixTime]]) {
            self.now = now
            self.everyone = everyone
            self.contacted = contacted
            self.runs = runs
        }
    }

    /// Every step of a pass at once. `lastContact` is each probe's last contact.
    public func pass(_ memory: inout AlertMemory, fleet: some AlertFleet, observed: Observed,
                     lastContact: (String) -> UnixTime?) -> AlertOutcome {
        var outcome = AlertOutcome()
        if observed.everyone { outcome.removed = forgetRemoved(&memory, fleet: fleet) }
        let due = due(&memory, fleet: fleet, observed: observed)
        let wasDown = schoolsDown(memory, probes: due, fleet: fleet)
        for probe in due {
            judge(probe, &memory, fleet: fleet, observed: observed, schoolWasDown: wasDown, lastContact: lastContact(probe), into: &outcome)
        }
        releaseHeld(&memory, fleet: fleet, observed: observed, lastContact: lastContact, into: &outcome)
        finish(&memory, observed: observed)
        return outcome
    }

    /// Forgets the states of probes the configuration no longer has; returns their names.
    public func forgetRemoved(_ memory: inout AlertMemory, fleet: some AlertFleet) -> Set<String> {
        let removed = Set(memory.states.keys.filter { fleet.school(ofProbe: $0) == nil })
        for probe in removed { memory.states[probe] = nil }
        return removed
    }

    /// The earliest run time a pass needs: after a catch-up, the oldest judged-through
    /// instant; otherwise the runs whose grace may have ended since the last pass. Never
    /// more than a week back.
    public func judgedFrom(_ memory: AlertMemory, schools: [SchoolConfig], now: UnixTime, catchUp: Bool) -> UnixTime {
        let longestGrace = UnixTime((schools.map(\.timing.testDurationSeconds).max() ?? 0) + settings.graceSeconds)
        let oldest = catchUp ? (memory.states.values.map(\.judgedThrough).min() ?? now) : min(memory.lastPass, now) - longestGrace - 1
        return max(oldest, now - 7 * 86_400)
    }

    /// The probes this pass judges, in name order; takes the reminders that are due.
    public func due(_ memory: inout AlertMemory, fleet: some AlertFleet, observed: Observed) -> [String] {
        if observed.everyone { return fleet.probeNames().sorted() }
        var names = observed.contacted.filter { name in
            fleet.school(ofProbe: name) != nil && Self.contactMatters(memory.states[name])
        }
        for (name, times) in observed.runs {
            guard let school = fleet.school(ofProbe: name) else { continue }
            let grace = UnixTime(school.timing.testDurationSeconds + settings.graceSeconds)
            if times.contains(where: { $0 + grace > memory.lastPass && $0 + grace <= observed.now }) { names.insert(name) }
        }
        while let next = memory.reminders.min, next.instant <= observed.now {
            memory.reminders.removeMin()
            names.insert(next.probe)
        }
        return names.sorted()
    }

    /// Which schools of `probes` were down as a whole before this pass, so that the
    /// order in which their probes are judged does not matter.
    public func schoolsDown(_ memory: AlertMemory, probes: [String], fleet: some AlertFleet) -> [String: Bool] {
        var wasDown: [String: Bool] = [:]
        for name in probes {
            guard let school = fleet.school(ofProbe: name), wasDown[school.name] == nil else { continue }
            wasDown[school.name] = school.probes.count > 1 && school.probes.allSatisfy { memory.states[$0.name]?.status == .down }
        }
        return wasDown
    }

    /// Judges one probe's runs: its new state, and the notices it causes now or holds back.
    public func judge(_ name: String, _ memory: inout AlertMemory, fleet: some AlertFleet, observed: Observed,
                      schoolWasDown: [String: Bool], lastContact: UnixTime?, into outcome: inout AlertOutcome) {
        guard let school = fleet.school(ofProbe: name) else { return }
        let now = observed.now
        let earlier = memory.states[name]
        var current = earlier ?? .new(at: now, lastContact: lastContact)
        let tracker = MissTracker(threshold: settings.missedRuns, graceSeconds: school.timing.testDurationSeconds + settings.graceSeconds,
                                  repeatSeconds: settings.repeatSeconds)
        let wholeSchoolWasDown = schoolWasDown[school.name] ?? false
        let closedNow = school.calendar != .always && !school.calendar.isOpen(on: LocalDate(containing: now, in: school.timeZone))
        for transition in tracker.evaluate(&current, runs: Self.judged(observed.runs[name] ?? [], of: school), lastContact: lastContact, now: now) {
            if case .stillDown = transition, closedNow { continue }  // no reminder on a closed day
            let notice = AlertOutcome.Notice(probe: name, school: school.name, transition: transition)
            outcome.transitions.append(notice)
            switch transition {
            case .wentDown where school.probes.count > 1 || incidentWaitSeconds != nil:
                current.heldNotice = .down(heldSince: now)
            case .recovered(let downSince, let missedCount) where wholeSchoolWasDown:
                current.heldNotice = .up(heldSince: now, downSince: downSince, missedCount: missedCount)
            case .recovered where current.heldNotice != nil:
                current.heldNotice = nil  // back before its DOWN email went out: say nothing
            default:
                outcome.notices[school.name, default: []].append(notice)
            }
        }
        outcome.missedRuns += current.missedRuns.count { $0 > (earlier?.judgedThrough ?? .min) }
        memory.states[name] = current
        if current.heldNotice != nil { memory.heldSchools.insert(school.name) }
        if !observed.everyone, current.lastAlertAt != earlier?.lastAlertAt, let reminder = Self.reminder(of: current, settings: settings) {
            memory.reminders.insert(.init(instant: max(reminder, now + 1), probe: name))
        }
        if current.differsInJudgement(from: earlier) { outcome.changed[name] = (school.name, current) }
    }

    /// Sends the held notices whose hold is over: one batch for a school whose probes
    /// all went down (or came back) together; each on its own as soon as another probe
    /// shows the link works, or when the hold (the school's longest window, at most 15
    /// minutes) is over.
    public func releaseHeld(_ memory: inout AlertMemory, fleet: some AlertFleet, observed: Observed,
                            lastContact: (String) -> UnixTime?, into outcome: inout AlertOutcome) {
        let now = observed.now
        if observed.everyone {
            memory.heldSchools = Set(memory.states.compactMap { name, state in state.heldNotice == nil ? nil : fleet.school(ofProbe: name)?.name })
        }
        for schoolName in memory.heldSchools.sorted() {
            guard let school = fleet.school(named: schoolName) else {
                memory.heldSchools.remove(schoolName)
                continue
            }
            let names = school.probes.map(\.name)
            let held = names.filter { memory.states[$0]?.heldNotice != nil }
            guard !held.isEmpty else {
                memory.heldSchools.remove(schoolName)
                continue
            }
            let oldest = held.compactMap { memory.states[$0]?.heldNotice?.heldSince }.min() ?? now
            let hold = UnixTime(min(school.timing.nominalWindows.map(\.seconds).max() ?? 0, 900))
            let allDown = names.allSatisfy { memory.states[$0]?.status == .down }
            let allUp = names.allSatisfy { memory.states[$0]?.status == .up }
            let linkWorks = names.contains { memory.states[$0]?.status == .up && (lastContact($0) ?? .min) >= oldest }
            if allDown, let wait = incidentWaitSeconds {
                // The school went down as a whole when its last probe did.
                let wholeSince = names.compactMap { memory.states[$0]?.since }.max() ?? now
                guard now - wholeSince >= wait else { continue }
            }
            guard allDown || allUp || linkWorks || now - oldest >= hold else { continue }
            for name in held {
                guard var state = memory.states[name], let notice = state.heldNotice else { continue }
                let transition: ProbeTransition = switch notice {
                case .down: .wentDown(missedRuns: state.missedRuns)
                case .up(_, let downSince, let missedCount): .recovered(downSince: downSince, missedCount: missedCount)
                }
                state.heldNotice = nil
                memory.states[name] = state
                outcome.changed[name] = (school.name, state)
                outcome.notices[school.name, default: []].append(.init(probe: name, school: school.name, transition: transition))
            }
        }
    }

    /// Ends the pass: after judging everyone, every DOWN probe's next reminder.
    public func finish(_ memory: inout AlertMemory, observed: Observed) {
        if observed.everyone {
            memory.reminders = Heap(memory.states.compactMap { name, state in
                Self.reminder(of: state, settings: settings).map { AlertMemory.Due(instant: max($0, observed.now + 1), probe: name) }
            })
        }
        memory.lastPass = observed.now
    }

    /// The runs that are judged: those on the school's open days. A run stored before
    /// a reload closed its day stays a fact (it was announced), but is not judged.
    public static func judged(_ runs: [UnixTime], of school: SchoolConfig) -> [UnixTime] {
        guard school.calendar != .always else { return runs }
        return runs.filter { school.calendar.isOpen(on: LocalDate(containing: $0, in: school.timeZone)) }
    }

    /// Whether a contact can change what the judgement says of a probe: it ends a
    /// DOWN, a streak of misses or a held notice, or it is the first. A contact of an
    /// UP probe with no misses changes only when it was last heard from, which the
    /// next judgement of its runs reads from the contacts anyway (and a held notice's
    /// "the link works" reads from the contacts too); judging it would change nothing,
    /// and a busy fleet makes thousands of such contacts a second.
    public static func contactMatters(_ state: ProbeAlertState?) -> Bool {
        guard let state else { return true }
        return state.status != .up || state.consecutiveMissed > 0 || state.lastContactSeen == nil || state.heldNotice != nil
    }

    /// When a DOWN probe's next reminder is due, if reminders are on.
    public static func reminder(of state: ProbeAlertState, settings: AlertSettings) -> UnixTime? {
        guard state.status == .down, let repeatSeconds = settings.repeatSeconds, let last = state.lastAlertAt else { return nil }
        return last + UnixTime(repeatSeconds)
    }
}

extension ProbeAlertState {
    /// Whether this state says more than `earlier` did: anything but a later contact
    /// of a probe already heard from. Such a refresh changes no verdict (``MissTracker``
    /// only ends a streak or a DOWN on a contact, and those change other fields too)
    /// and is applied again from the stored contacts after a restart, so it is kept in
    /// memory and not written: a busy probe would otherwise rewrite its state every
    /// second.
    public func differsInJudgement(from earlier: ProbeAlertState?) -> Bool {
        guard let earlier else { return true }
        var refreshed = earlier
        if earlier.lastContactSeen != nil { refreshed.lastContactSeen = lastContactSeen }
        return refreshed != self
    }
}
