/// What became of a scheduled run.
public enum RunOutcome: String, Codable, Sendable, CaseIterable {
    /// A result with exit status 0.
    case done
    /// The test ran and did not succeed: a non-zero exit status, a signal, or a push
    /// test stopped at its `timeout`.
    case failed
    /// Announced, and its test time and grace passed without a test: see ``MissReason``.
    case missed
    /// Still to come, running now, or within its grace.
    case pending
    /// The run's time had already passed when its window was stored (a fresh
    /// install, a long outage, a probe added mid-window): no probe could have run
    /// it, so it is never counted as missed.
    case unannounced
    /// The school is closed that day: a run announced before a reload closed the day
    /// is kept (it is a fact) but not judged, unless a result came for it.
    case closed
}

/// Why an announced run produced no test.
public enum MissReason: String, Codable, Sendable, CaseIterable {
    /// No contact at all from the probe since the run time.
    case silent
    /// The probe made contact since the run time but reported nothing for this run.
    case noResult = "no-result"
    /// The governor could not start the push test (the detail names the SSH failure
    /// kind: connection-refused, auth-failed, host-key-changed, config…).
    case pushFailed = "push-failed"
    /// The push run's time had passed by more than `max_lateness` when the dispatcher saw it.
    case skippedLate = "skipped-late"
    /// The governor stopped while the push test was in flight.
    case interrupted
}

/// The `failure` text of a stored push result starts with its kind and a colon
/// (`connection-refused: …`, `timeout: …`); this is the one vocabulary the
/// dispatcher writes and the run judgement reads.
public enum RunFailure {
    public static let skipped = "skipped"
    public static let interrupted = "interrupted"
    public static let timeout = "timeout"
    public static let signal = "signal"
    public static let config = "config"
    /// The school's explicit `result_format` could not read the test's output.
    public static let unreadableOutput = "unreadable-output"
    /// The test's output says the tool itself failed (an ndt7 `error` event, an iperf3 `error`).
    public static let toolError = "tool-error"
    /// The test's output says the measurement platform refused the client for its rate.
    public static let rateLimited = "rate-limited"

    /// The kinds of a test that ran and failed by what its output says.
    public static let outputKinds: Set<String> = [unreadableOutput, toolError, rateLimited]

    /// `kind: message`.
    public static func text(_ kind: String, _ message: String) -> String {
        "\(kind): \(message)"
    }

    /// The kind of a failure text: what stands before its first colon.
    public static func kind(of failure: String) -> String {
        String(failure.prefix { $0 != ":" })
    }
}

/// The verdict on one stored run: the single place that turns a run, its result and
/// the probe's contacts into an outcome, for every view.
public struct RunJudgement: Sendable, Equatable {
    public var outcome: RunOutcome
    public var reason: MissReason?
    /// For ``MissReason/pushFailed``, and for a run ``RunOutcome/failed`` by what its output
    /// says (`unreadable-output`, `tool-error`, `rate-limited`): the failure kind.
    public var detail: String?

    public init(_ outcome: RunOutcome, reason: MissReason? = nil, detail: String? = nil) {
        self.outcome = outcome
        self.reason = reason
        self.detail = detail
    }

    /// What a stored result says about its run.
    public struct ResultFacts: Sendable, Equatable {
        public var exitCode: Int?
        public var failure: String?

        public init(exitCode: Int?, failure: String?) {
            self.exitCode = exitCode
            self.failure = failure
        }
    }

    /// Judges one run.
    ///
    /// - Parameters:
    ///   - announced: whether its window was stored by the run time (`runAt >= generatedAt`).
    ///   - result: the run's newest stored result, if any.
    ///   - lastContact: the probe's latest contact.
    ///   - settledAt: when a run without a result stops being pending: its run time
    ///     plus the school's `test_duration` plus `[Alerts] grace`.
    ///   - closed: whether the school is closed on the run's day.
    public static func judge(runAt: UnixTime, announced: Bool, result: ResultFacts?, lastContact: UnixTime?,
                             settledAt: UnixTime, now: UnixTime, closed: Bool = false) -> RunJudgement {
        if let result {
            guard let failure = result.failure else { return RunJudgement(result.exitCode == 0 ? .done : .failed) }
            let kind = RunFailure.kind(of: failure)
            switch kind {
            case RunFailure.timeout, RunFailure.signal:
                return RunJudgement(.failed)  // the test ran
            case _ where RunFailure.outputKinds.contains(kind):
                return RunJudgement(.failed, detail: kind)  // the test ran; its output says it failed
            default:
                // No test ran. A run nobody was told about is not missed, whatever the dispatcher did.
                guard announced else { return RunJudgement(.unannounced) }
                guard !closed else { return RunJudgement(.closed) }
                switch kind {
                case RunFailure.skipped: return RunJudgement(.missed, reason: .skippedLate)
                case RunFailure.interrupted: return RunJudgement(.missed, reason: .interrupted)
                default: return RunJudgement(.missed, reason: .pushFailed, detail: kind)
                }
            }
        }
        guard announced else { return RunJudgement(.unannounced) }
        guard !closed else { return RunJudgement(.closed) }
        guard now >= settledAt else { return RunJudgement(.pending) }
        if let lastContact, lastContact >= runAt { return RunJudgement(.missed, reason: .noResult) }
        return RunJudgement(.missed, reason: .silent)
    }
}
