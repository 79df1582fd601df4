import Foundation
import GovernorCore
import GovernorPostgres
import GovernorSQLite
import GovernorStore
import GovernorTestSupport
import Logging
import PostgresNIO
import Testing

@Suite("The state on SQLite and on PostgreSQL: schedules, contacts, results, sources")
struct StateStoreTests {
    /// A window at 08:00 UTC on 2026-11-23.
    static func window(start: UnixTime = 1_795_420_800, hours: Int64 = 4, runs: [ScheduledRun]) -> ScheduledWindow {
        ScheduledWindow(
            bounds: WindowBounds(start: start, end: start + hours * 3600, localDate: LocalDate(parsing: "2026-11-23")!,
                                 startBoundary: TimeOfDay(secondsSinceMidnight: Int((start % 86400)))!),
            runs: runs)
    }

    @Test("windows in one batch, in order; the runs to come with their windows; generated through; dropped runs", arguments: Backend.allCases)
    func batchesAndReads(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("batches")
        defer { close() }
        let morning = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400), ScheduledRun(probe: "p2", runAt: 1_795_430_000)])
        let noon = Self.window(start: 1_795_435_200, runs: [ScheduledRun(probe: "p2", runAt: 1_795_436_000), ScheduledRun(probe: "p1", runAt: 1_795_440_000)])
        let beta = Self.window(runs: [ScheduledRun(probe: "q1", runAt: 1_795_425_000)])
        let stored = try await store.storeWindows([
            NewWindow(school: "alpha", window: morning, fingerprint: "a"),
            NewWindow(school: "alpha", window: noon, fingerprint: "a"),
            NewWindow(school: "beta", window: beta, fingerprint: "b"),
        ], generatedAt: 100)
        #expect(stored == [morning, noon, beta])
        #expect(try await store.generatedThrough() == ["alpha": noon.bounds.end, "beta": beta.bounds.end])

        let runs = try await store.runs(from: 1_795_425_000)
        #expect(runs.map(\.probe) == ["q1", "p2", "p2", "p1"])
        #expect(runs.map(\.runAt) == [1_795_425_000, 1_795_430_000, 1_795_436_000, 1_795_440_000])
        #expect(runs.map(\.windowEnd) == [beta.bounds.end, morning.bounds.end, noon.bounds.end, noon.bounds.end])
        #expect(try await store.windows(school: "alpha", startingFrom: noon.bounds.start, before: .max).map(\.scheduled) == [noon])

        #expect(try await store.dropRuns(of: ["p2"], after: 1_795_430_000, reason: "moved", at: 100) == 1)
        #expect(try await store.inspection.runs(probe: "p2", from: 0, before: .max) == [1_795_430_000])
        #expect(try await store.inspection.runs(probe: "p1", from: 0, before: .max) == [1_795_421_400, 1_795_440_000])
        #expect(try await store.dropRuns(of: [], after: 0, reason: "moved", at: 100) == 0)

        // Dropped runs are remembered as cancelled until they pass, for the probes that leased them.
        let p1 = StoredRun(school: "alpha", probe: "p1", runAt: 1_795_440_000, windowStart: noon.bounds.start, windowEnd: noon.bounds.end)
        #expect(try await store.dropRuns([p1, p1.with(runAt: 1)], reason: "closed: winter break", at: 101) == 1, "only what is stored")
        #expect(try await store.cancelledRuns(probe: "p2", after: 0) == [CancelledRun(runAt: 1_795_436_000, reason: "moved")])
        #expect(try await store.cancelledRuns(probe: "p1", after: 0) == [CancelledRun(runAt: 1_795_440_000, reason: "closed: winter break")])
        #expect(try await store.cancelledRuns(probe: "p1", after: 1_795_440_000).isEmpty, "only those still to come")
        try await store.forgetCancelledRuns(before: 1_795_440_000)
        #expect(try await store.cancelledRuns(probe: "p2", after: 0).isEmpty)
        #expect(try await store.cancelledRuns(probe: "p1", after: 0).count == 1)
    }

    @Test("contacts: the newest of every writer's stays; a run counts as missed only when stored before its time", arguments: Backend.allCases)
    func contacts(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("contacts")
        defer { close() }
        try await store.recordContacts(["p1": 1000, "p2": 2000])
        try await store.recordContacts(["p1": 900, "p2": 2500])
        try await store.recordContacts([:])
        #expect(try await store.contacts() == ["p1": 1000, "p2": 2500])

        // Stored at 08:20: the 08:10 run was never announced, the 09:00 and 10:00 ones were.
        let window = Self.window(runs: [1_795_421_400, 1_795_424_400, 1_795_428_000].map { ScheduledRun(probe: "p1", runAt: $0) })
        _ = try await store.storeWindow(school: "alpha", window, fingerprint: "a", generatedAt: 1_795_422_000)
        #expect(try await store.inspection.runsWithoutContact(probe: "p1", after: 0, upTo: 1_795_428_000) == 2)
        #expect(try await store.inspection.runsWithoutContact(probe: "p1", after: 1_795_424_400, upTo: 1_795_428_000) == 1)
        #expect(try await store.inspection.runsWithoutContact(probe: "p1", after: 5, upTo: 5) == 0)
    }

    @Test("results: a re-send is stored once; counts per probe since an instant; a school's newest first", arguments: Backend.allCases)
    func results(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("results")
        defer { close() }
        func result(_ probe: String, runAt: Int64, receivedAt: Int64, key: String?) -> TestResult {
            TestResult(probe: probe, school: "alpha", mode: .pull, runAt: runAt, startedAtMs: runAt * 1000 + 4, finishedAtMs: runAt * 1000 + 9000,
                       exitCode: 0, output: "download 93.1 Mbit/s\u{2400}", outputTruncated: false, clockOffsetMs: -1.5,
                       receivedAt: receivedAt, idempotencyKey: key)
        }
        let (first, created) = try await store.insertOnce(result("p1", runAt: 100, receivedAt: 110, key: "run:100"))
        #expect(created && first.id != nil)
        let (again, createdAgain) = try await store.insertOnce(result("p1", runAt: 100, receivedAt: 120, key: "run:100"))
        #expect(!createdAgain && again == first)
        _ = try await store.insertOnce(result("p2", runAt: 100, receivedAt: 130, key: "run:100"))
        let adHoc = try await store.inspection.insert(result("p1", runAt: 200, receivedAt: 210, key: nil))
        #expect(try await store.results(probe: "p1", limit: 10) == [adHoc, first])
        #expect(try await store.results(probe: "p1", limit: 1) == [adHoc])
        #expect(try await store.results(school: "alpha", limit: 10).map(\.probe) == ["p1", "p2", "p1"])
        #expect(try await store.resultCounts(of: ["p1", "p2", "p3"], since: 115) == ["p1": 1, "p2": 1])
        #expect(try await store.resultCount(probe: "p1", since: 0) == 2)
        let latest = try await store.latestResults()
        #expect(latest.keys.sorted() == ["p1", "p2"] && latest["p1"]?.id == adHoc.id && latest["p1"]?.output == "")
    }

    @Test("measurements: stored with their result and only with it; by school and time; the older results read once by the backfill", arguments: Backend.allCases)
    func measurements(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("measurements")
        defer { close() }
        #expect(try await store.measurementBackfill() == nil)  // a fresh state has no history to read
        let ndt7 = SpeedMeasurement(tool: .ndt7, downloadMbps: 93.14, uploadMbps: 18.45, minRTTMs: 11.2, retransmissionPercent: 0.35,
                                    serverName: "ndt.example", serverIP: "192.0.2.7", clientIP: "203.0.113.45", downloadID: "d-uuid", uploadID: "u-uuid")
        let iperf = SpeedMeasurement(tool: .iperf3, uploadMbps: 23_787.7, minRTTMs: 0.048, retransmits: 3)
        func result(_ probe: String, school: String = "alpha", runAt: Int64, key: String?, measurement: SpeedMeasurement?, output: String = "") -> TestResult {
            let startedAtMs: Int64 = runAt * 1000 + 4
            let finishedAtMs: Int64 = runAt * 1000 + 9000
            let receivedAt: Int64 = runAt + 10
            return TestResult(probe: probe, school: school, mode: .pull, runAt: runAt, startedAtMs: startedAtMs, finishedAtMs: finishedAtMs,
                              exitCode: 0, output: output, outputTruncated: false, clockOffsetMs: nil, receivedAt: receivedAt, idempotencyKey: key,
                              measurement: measurement)
        }
        let (first, _) = try await store.insertOnce(result("p1", runAt: 100, key: "run:100", measurement: ndt7))
        // A re-send carries its own reading; the first stays, with the first's measurement.
        let (again, created) = try await store.insertOnce(result("p1", runAt: 100, key: "run:100", measurement: iperf))
        #expect(!created && again.id == first.id)
        let second = try await store.insertOnce(result("p2", runAt: 200, key: "run:200", measurement: iperf)).result
        let none = try await store.insertOnce(result("p2", runAt: 300, key: "run:300", measurement: nil)).result
        let beta = try await store.insertOnce(result("p3", school: "beta", runAt: 150, key: "run:150", measurement: ndt7)).result
        #expect(try await store.results(probe: "p1", limit: 5).map(\.measurement) == [ndt7])
        #expect(try await store.results(school: "alpha", limit: 5).map(\.measurement) == [nil, iperf, ndt7])
        #expect(try await store.measurements(ofResults: [first.id!, second.id!, none.id!]) == [first.id!: ndt7, second.id!: iperf])
        let alpha = try await store.measurements(school: "alpha", fromMs: 100_004, beforeMs: 200_004)
        #expect(alpha == [StoredMeasurement(resultID: first.id!, probe: "p1", school: "alpha", measuredAtMs: 100_004, measurement: ndt7, runAt: 100)])
        #expect(try await store.measurements(school: "alpha", fromMs: 0, beforeMs: .max).map(\.resultID) == [first.id!, second.id!])
        #expect(try await store.measurements(school: "beta", fromMs: 0, beforeMs: .max).map(\.resultID) == [beta.id!])

        // A group run's members: each measurement keeps its group and run time, in every read.
        var member = result("g1", school: "gamma", runAt: 400, key: "run:400", measurement: iperf)
        member.group = "lab"
        let grouped = try await store.insertOnce(member).result
        let gamma = try await store.measurements(school: "gamma", fromMs: 0, beforeMs: .max)
        #expect(gamma.map(\.group) == ["lab"] && gamma.map(\.runAt) == [400])
        let points = try await store.measurementPoints(after: beta.id!, through: grouped.id!, limit: 10)
        #expect(points.map(\.groupRun) == [GroupRunKey(group: "lab", runAt: 400)])
        #expect(try await store.measurementPoints(after: 0, through: first.id!, limit: 10).map(\.groupRun) == [nil])
        #expect(try await store.measurements(fromMs: 400_000, beforeMs: 401_000, after: nil, limit: 10).map(\.group) == ["lab"])

        // After an upgrade: every result is older than measurements. The backfill reads a
        // batch and moves on from where it read; one that read the same batch late stores nothing.
        try await store.inspection.rewindMeasurementBackfill()
        #expect(try await store.measurements(ofResults: [first.id!]).isEmpty)
        let position = try #require(try await store.measurementBackfill())
        #expect(position.after == 0 && position.last == grouped.id!)
        let batch = try await store.results(after: position.after, through: position.last, limit: 2)
        #expect(batch.map(\.id) == [first.id, second.id])
        let read = [StoredMeasurement(resultID: first.id!, probe: "p1", school: "alpha", measuredAtMs: 100_004, measurement: ndt7)]
        #expect(try await store.advanceBackfill(from: position.after, to: second.id!, storing: read))
        #expect(!(try await store.advanceBackfill(from: position.after, to: second.id!, storing: [
            StoredMeasurement(resultID: second.id!, probe: "p2", school: "alpha", measuredAtMs: 200_004, measurement: iperf)])))
        #expect(try await store.measurements(ofResults: [first.id!, second.id!]) == [first.id!: ndt7])
        #expect(try await store.measurementBackfill()?.after == second.id!)
        #expect(try await store.advanceBackfill(from: second.id!, to: grouped.id!, storing: []))
        #expect(try await store.measurementBackfill() == nil)
    }

    @Test("a message queued once by its Message-ID: the same digest made twice is one message", arguments: Backend.allCases)
    func queueOnce(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("queue-once")
        defer { close() }
        func digest(_ id: String) -> OutboxMessage {
            OutboxMessage(messageId: id, sender: "governor@example.org", recipients: ["ops@example.org"], subject: "digest", body: "b", createdAt: 100)
        }
        #expect(try await store.queueOnce([digest("digest-1@example.org"), digest("digest-2@example.org")]) == 2)
        #expect(try await store.queueOnce([digest("digest-1@example.org"), digest("digest-3@example.org")]) == 1)
        #expect(try await store.inspection.pendingOutboxCount() == 3)
        #expect(try await store.queueOnce([]) == 0)
    }

    @Test("silences: stored with an id, listed while in force and for a while after; removed once; a label kept as a label", arguments: Backend.allCases)
    func silences(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("silences")
        defer { close() }
        let school = try await store.addSilence(Silence(matcher: .school("riverside"), startsAt: 1000, endsAt: 5000, reason: "power cut", author: "ops@host"))
        let label = try await store.addSilence(Silence(matcher: .label(.init(key: "isp", value: "acme-telecom")), startsAt: 1000, endsAt: 2000,
                                                       reason: "migration", author: "ops@host"))
        let probe = try await store.addSilence(Silence(matcher: .probe("r-1"), startsAt: 1000, endsAt: 9000, reason: "moved", author: "x"))
        #expect(school.id != nil && label.id != nil && school.id != label.id)
        #expect(try await store.silences(endedAfter: 1500) == [school, label, probe])
        #expect(try await store.silences(endedAfter: 2000) == [school, probe], "the label's ended at 2000")
        let schoolID = try #require(school.id), labelID = try #require(label.id)
        let removed = try #require(try await store.removeSilence(id: schoolID, at: 3000))
        #expect(removed.removedAt == 3000 && removed.endedAt == 3000 && removed.matcher == .school("riverside"))
        #expect(try await store.removeSilence(id: schoolID, at: 3100) == nil, "removed once")
        #expect(try await store.removeSilence(id: labelID, at: 3100) == nil, "an ended silence is not removed")
        #expect(try await store.removeSilence(id: 999_999, at: 3100) == nil)
        #expect(try await store.silences(endedAfter: 3000) == [probe])
    }

    @Test("incidents: stored with an id and their lists, updated by id; the open ones, and those of a span", arguments: Backend.allCases)
    func incidents(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("incidents")
        defer { close() }
        let isp = try await store.saveIncident(Incident(scope: .label(.init(key: "isp", value: "acme-telecom")), openedAt: 1000, since: 900,
                                                        schools: ["a-1", "a-2", "a-3"]))
        let fleet = try await store.saveIncident(Incident(scope: .fleet, openedAt: 2000, since: 1990, schools: ["b-1", "b-2"]))
        #expect(isp.id != nil && fleet.id != nil && isp.id != fleet.id)
        #expect(try await store.openIncidents() == [isp, fleet])
        var closed = isp
        closed.closedAt = 5000
        closed.recovered = ["a-1", "a-2"]
        closed.stillDown = ["a-3"]
        #expect(try await store.saveIncident(closed) == closed)
        #expect(try await store.openIncidents() == [fleet])
        #expect(try await store.incidents(since: 4000) == [fleet, closed], "newest first: the open one, and the one closed since")
        #expect(try await store.incidents(since: 6000) == [fleet])
        var reported = closed
        reported.laterRecovered = ["a-3"]
        reported.reportedAt = 7000
        #expect(try await store.saveIncident(reported) == reported, "the later recoveries and their report are kept")
    }

    @Test("incidents and their email are stored together, under the lease; a message already queued is not queued again", arguments: Backend.allCases)
    func incidentsWithEmail(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("incidents-email")
        defer { close() }
        let now = UnixTime(Date().timeIntervalSince1970)
        let lease = try #require(try await store.holdLease("alerts", holder: "a", seconds: 30, at: now))
        @Sendable func opened(_ incidents: [Incident]) -> [OutboxMessage] {
            incidents.map { OutboxMessage(messageId: "incident-\($0.id ?? 0)-opened@example.org", sender: "governor@example.org",
                                          recipients: ["ops@example.org"], subject: "incident", body: "b", createdAt: now) }
        }
        let incident = Incident(scope: .label(.init(key: "isp", value: "acme")), openedAt: now, since: now, schools: ["a", "b"])
        let stored = try await store.saveIncidents([incident], queue: opened, fencedBy: lease)
        #expect(stored.count == 1 && stored[0].id != nil)
        #expect(try await store.inspection.pendingOutboxCount() == 1)
        _ = try await store.saveIncidents(stored, queue: opened, fencedBy: lease)
        #expect(try await store.inspection.pendingOutboxCount() == 1, "the same Message-ID is queued once")
        await #expect(throws: LeaseLost.self) {
            _ = try await store.saveIncidents([incident], queue: opened, fencedBy: Lease(name: "alerts", holder: "a", fencing: lease.fencing + 1))
        }
        #expect(try await store.openIncidents().count == 1, "a lost lease writes nothing")
    }

    @Test("school sources are kept by file; /healthz's write succeeds", arguments: Backend.allCases)
    func sourcesAndHealth(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("sources")
        defer { close() }
        try await store.saveSchoolSources(["a.cfg": "[Timing]\n", "b.cfg": "[Probes]\n"], at: 10)
        try await store.saveSchoolSources(["a.cfg": "[Timing]\nboundaries = 0800\n"], at: 20)
        #expect(try await store.schoolSources() == ["a.cfg": "[Timing]\nboundaries = 0800\n", "b.cfg": "[Probes]\n"])
        try await store.probeWrite(at: 30)
        try await store.probeWrite(at: 31)
    }

    @Test("a lease is held by one holder at a time; a takeover after it runs out fences the old holder's writes", arguments: Backend.allCases)
    func leases(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("leases")
        defer { close() }
        // Real seconds: PostgreSQL counts leases by its own clock.
        func now() -> UnixTime { UnixTime(Date().timeIntervalSince1970) }
        let first = try #require(try await store.holdLease("alerts", holder: "a", seconds: 30, at: now()))
        #expect(try await store.holdLease("alerts", holder: "b", seconds: 30, at: now()) == nil)
        #expect(try await store.holdLease("alerts", holder: "a", seconds: 30, at: now()) == first, "a renewal keeps the fencing number")
        let state = ProbeAlertState.new(at: 1000, lastContact: nil)
        try await store.saveAlerts(states: ["p1": ("alpha", state)], removing: [], queue: [], fencedBy: first)
        #expect(try await store.alertStates() == ["p1": state])

        // a renews for one second only, and then stalls past it.
        #expect(try await store.holdLease("alerts", holder: "a", seconds: 1, at: now()) == first)
        try await Task.sleep(for: .milliseconds(2500))
        let second = try #require(try await store.holdLease("alerts", holder: "b", seconds: 30, at: now()))
        #expect(second.fencing > first.fencing)
        // a stalled past its lease: its write is refused, and nothing of it lands.
        let message = OutboxMessage(messageId: "late@governor", sender: "g@example.org", recipients: ["noc@example.org"], subject: "DOWN", body: "", createdAt: 1000)
        await #expect(throws: LeaseLost.self) {
            try await store.saveAlerts(states: ["p2": ("alpha", state)], removing: ["p1"], queue: [message], fencedBy: first)
        }
        #expect(try await store.alertStates() == ["p1": state])
        #expect(try await store.inspection.pendingOutboxCount() == 0)
        #expect(try await store.holdLease("alerts", holder: "a", seconds: 30, at: now()) == nil)
    }

    @Test("a governor that does not judge reads the alert states changed lately by the database's clock, not every probe's")
    func followedAlertStates() async throws {
        let server = try TestPostgres.shared()
        let name = TestPostgres.uniqueName("follow")
        _ = try server.freshDatabase(name)
        let state = try await Backend.postgres("follow", database: name)
        defer { state.close() }
        let up = ProbeAlertState.new(at: 1000, lastContact: 990)
        var down = up
        down.status = .down
        try await state.saveAlerts(states: ["p1": ("alpha", up), "p2": ("alpha", up)], removing: [], queue: [])
        #expect(try await state.alertStates(changedWithin: 30) == ["p1": up, "p2": up])
        // Both were stamped a minute ago; then the judge changes p2.
        _ = try server.psql("UPDATE alert_states SET updated_at = updated_at - 60", database: name)
        #expect(try await state.alertStates(changedWithin: 30).isEmpty)
        try await state.saveAlerts(states: ["p2": ("alpha", down)], removing: [], queue: [])
        #expect(try await state.alertStates(changedWithin: 30) == ["p2": down])
        #expect(try await state.alertStates() == ["p1": up, "p2": down])
    }

    @Test("an alert email is claimed by one sender at a time; a claim of a governor that is gone is taken over; a failed one is free again when due", arguments: Backend.allCases)
    func outboxClaims(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("claims")
        defer { close() }
        let now = UnixTime(Date().timeIntervalSince1970)
        let messages = (1...3).map {
            OutboxMessage(messageId: "m\($0)@governor", sender: "g@example.org", recipients: ["noc@example.org"], subject: "DOWN \($0)", body: "", createdAt: now)
        }
        try await store.saveAlerts(states: [:], removing: [], queue: messages)
        switch backend {
        case .sqlite:
            // One governor per file: a claim not this process's is of one that is gone
            // (killed mid-send), and is taken at once rather than when it runs out.
            let a = try await store.claimOutboxMessages(at: now, limit: 2, holder: "a", seconds: 60)
            #expect(a.map(\.messageId) == ["m1@governor", "m2@governor"])
            #expect(try await store.claimOutboxMessages(at: now, limit: 10, holder: "a", seconds: 60).map(\.messageId) == ["m3@governor"])
            #expect(try await store.claimOutboxMessages(at: now, limit: 10, holder: "a", seconds: 60).isEmpty, "a holds them all")
            let restarted = try await store.claimOutboxMessages(at: now, limit: 10, holder: "a2", seconds: 60)
            #expect(restarted.map(\.messageId) == ["m1@governor", "m2@governor", "m3@governor"])
        case .postgres:
            // a and b live (their presence leases run); a claim of c, which has none, is
            // of a governor that is gone.
            for governor in ["a", "b"] { _ = try await store.holdLease(PresenceLease.name(of: governor), holder: governor, seconds: 30, at: now) }
            let a = try await store.claimOutboxMessages(at: now, limit: 2, holder: "a", seconds: 60)
            let c = try await store.claimOutboxMessages(at: now, limit: 10, holder: "c", seconds: 60)
            #expect(a.map(\.messageId) == ["m1@governor", "m2@governor"] && c.map(\.messageId) == ["m3@governor"])
            #expect(try await store.claimOutboxMessages(at: now, limit: 10, holder: "b", seconds: 60).map(\.messageId) == ["m3@governor"],
                    "c's claim taken over: c is gone")
            #expect(try await store.claimOutboxMessages(at: now, limit: 10, holder: "a", seconds: 60).isEmpty, "b lives: its claim holds")
        }
        try await store.markSent(1, at: now)
        try await store.markFailed(2, error: "421 later", nextAttemptAt: now)
        // m3 stays with its living holder (a2 on SQLite, b on PostgreSQL).
        let again = try await store.claimOutboxMessages(at: now, limit: 10, holder: backend == .sqlite ? "a2" : "d", seconds: 60)
        #expect(again.map(\.messageId) == ["m2@governor"] && again.first?.attempts == 1)
        #expect(try await store.outboxBacklog() == (2, 1))
        let failing = try await store.oldestFailingOutboxMessage()
        #expect(failing?.messageId == "m2@governor" && failing?.lastError == "421 later", "what the heartbeat reports")
    }

    @Test("push claims carry their governor: an orphan is one whose governor is gone, and is recorded interrupted once", arguments: Backend.allCases)
    func orphanedClaims(_ backend: Backend) async throws {
        let (store, close) = try await backend.open("orphans")
        defer { close() }
        let window = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400), ScheduledRun(probe: "p2", runAt: 1_795_425_000)])
        _ = try await store.storeWindow(school: "alpha", window, fingerprint: "a", generatedAt: 100)
        let runs = try await store.undispatchedRuns(of: ["p1", "p2"], from: 0, through: .max)
        #expect(try await store.claimDispatch(of: runs[0], at: 1000, holder: "a"))
        #expect(try await store.claimDispatch(of: runs[1], at: 1000, holder: "b"))
        #expect(try await store.claimDispatch(of: runs[1], at: 1000, holder: "a") == false)
        let now = UnixTime(Date().timeIntervalSince1970)
        _ = try await store.holdLease(PresenceLease.name(of: "b"), holder: "b", seconds: 30, at: now)
        switch backend {
        case .sqlite:
            // One governor per file: any claim but its own is of a process that is gone.
            #expect(try await store.orphanedDispatches(holder: "a") == [runs[1]])
        case .postgres:
            // b lives (its presence lease runs): its claim is held.
            #expect(try await store.orphanedDispatches(holder: "a").isEmpty)
            #expect(try await store.orphanedDispatches(holder: "c") == [runs[0]], "a has no presence: gone")
        }
        func interrupted(_ run: StoredRun) -> TestResult {
            TestResult(probe: run.probe, school: run.school, mode: .push, runAt: run.runAt, startedAtMs: nil, finishedAtMs: nil, exitCode: nil,
                       failure: "interrupted", output: "", outputTruncated: false, clockOffsetMs: nil, receivedAt: 1001)
        }
        #expect(try await store.interruptOrphan(runs[0], result: interrupted(runs[0]), holder: "c", at: 1001))
        #expect(try await store.interruptOrphan(runs[0], result: interrupted(runs[0]), holder: "d", at: 1001) == false, "recorded once")
        #expect(try await store.interruptOrphan(runs[1], result: interrupted(runs[1]), holder: "b", at: 1001) == false, "never one's own claim")
        #expect(try await store.inspection.dispatchStates(probe: "p1", from: 0, before: .max) == [runs[0].runAt: .interrupted])
        #expect(try await store.results(probe: "p1", limit: 10).count == 1)
        if backend == .postgres {
            #expect(try await store.orphanedDispatches(holder: "c").isEmpty, "b's claim is held while b lives")
        }
    }

    @Test("an SQLite state copied into PostgreSQL: every row arrives with its identity; copying again changes nothing")
    func importState() async throws {
        let directory = try TemporaryDirectory("governor-import")
        defer { directory.remove() }
        let source = try SQLiteState.open(path: directory.file("state.sqlite"))
        defer { try? source.close() }
        let morning = Self.window(runs: [ScheduledRun(probe: "p1", runAt: 1_795_421_400), ScheduledRun(probe: "x1", runAt: 1_795_425_000)])
        _ = try await source.storeWindow(school: "alpha", morning, fingerprint: "a", generatedAt: 100)
        _ = try await source.storeWindow(school: "beta", Self.window(start: 1_795_435_200, runs: [ScheduledRun(probe: "q1", runAt: 1_795_436_000)]),
                                         fingerprint: "b", generatedAt: 200)
        try await source.recordContacts(["p1": 1_795_421_500, "q1": 1_795_436_100])
        var results: [TestResult] = []
        for index in 0..<(PostgresState.resultPage + 3) {
            results.append(try await source.inspection.insert(TestResult(
                probe: "p1", school: "alpha", mode: .pull, runAt: 1_795_421_400 + Int64(index), startedAtMs: nil, finishedAtMs: nil, exitCode: index % 2,
                output: "output \(index)", outputTruncated: false, clockOffsetMs: nil, receivedAt: 1_795_421_500, idempotencyKey: "run:\(index)")))
        }
        let push = try #require(try await source.undispatchedRuns(of: ["x1"], from: 0, through: .max).first)
        #expect(try await source.claimDispatch(of: push, at: 1_795_424_997, holder: "old"))
        let state = ProbeAlertState.new(at: 1000, lastContact: 900)
        let message = OutboxMessage(messageId: "m1@governor", sender: "g@example.org", recipients: ["noc@example.org"], subject: "DOWN", body: "text", createdAt: 1000)
        try await source.saveAlerts(states: ["q1": ("beta", state)], removing: [], queue: [message])
        try await source.saveSchoolSources(["alpha.cfg": "[Timing]\n"], at: 10)
        let silence = try await source.addSilence(Silence(matcher: .label(.init(key: "isp", value: "acme")), startsAt: 900, endsAt: 5000,
                                                          reason: "migration", author: "ops@host"))
        var incident = try await source.saveIncident(Incident(scope: .label(.init(key: "isp", value: "acme")), openedAt: 1000, since: 950,
                                                               schools: ["alpha", "beta"]))
        incident.closedAt = 2000
        incident.recovered = ["alpha"]
        incident.stillDown = ["beta"]
        incident.reportedAt = 2000
        incident = try await source.saveIncident(incident)

        let target = try await Backend.postgres("import")
        defer { target.close() }
        let counts = try await target.importState(from: source, at: 20)
        #expect(counts.windows == 2 && counts.runs == 3 && counts.contacts == 2 && counts.results == results.count
                && counts.dispatches == 1 && counts.alertStates == 1 && counts.outbox == 1 && counts.schoolSources == 1
                && counts.silences == 1 && counts.incidents == 1, "\(counts)")
        for _ in 0..<2 {
            #expect(try await target.windows(school: "alpha", startingFrom: 0, before: .max) == (try await source.windows(school: "alpha", startingFrom: 0, before: .max)))
            #expect(try await target.runs(from: 0) == (try await source.runs(from: 0)))
            #expect(try await target.contacts() == (try await source.contacts()))
            #expect(try await target.results(probe: "p1", limit: 10_000) == (try await source.results(probe: "p1", limit: 10_000)))
            #expect(try await target.inspection.dispatchStates(probe: "x1", from: 0, before: .max) == [push.runAt: .started])
            #expect(try await target.alertStates() == ["q1": state])
            #expect(try await target.inspection.dueOutboxMessages(at: .max, limit: 10) == (try await source.inspection.dueOutboxMessages(at: .max, limit: 10)))
            #expect(try await target.schoolSources() == ["alpha.cfg": "[Timing]\n"])
            #expect(try await target.silences(endedAfter: 0) == [silence])
            #expect(try await target.incidents(since: 0) == [incident])
            // Again: nothing added, nothing changed.
            _ = try await target.importState(from: source, at: 30)
        }
        // New rows continue after the copied ids.
        let next = try await target.insert(results[0].with { $0.id = nil; $0.idempotencyKey = "run:new" })
        #expect((next.id ?? 0) > (results.last?.id ?? .max))
        let later = try await target.addSilence(Silence(matcher: .school("beta"), startsAt: 900, endsAt: 5000, reason: "r", author: "a"))
        #expect((later.id ?? 0) > (silence.id ?? .max))
    }

    @Test("TLS: sslmode require and verify-full connect to a server that takes TLS only; disable is refused, and so is a CA that did not sign it")
    func tls() async throws {
        let server = try TestPostgres(tls: true)
        defer { server.remove() }
        var logger = Logger(label: "governor.test.postgres")
        logger.logLevel = .critical
        func location(_ mode: PostgresLocation.SSLMode, host: String = "127.0.0.1", ca: String? = nil) throws -> PostgresLocation {
            var location = try PostgresLocation(url: "postgres://\(server.user)@\(host):\(server.port)/\(server.database)")
            location.sslMode = mode
            location.caFile = ca
            return location
        }
        for usable in [try location(.require), try location(.prefer), try location(.verifyFull, host: "localhost", ca: server.caFile)] {
            let state = try await PostgresState.connect(to: usable, logger: logger).runningForTest()
            defer { state.close() }
            try await state.recordContacts(["p1": 1])
            #expect(try await state.contacts() == ["p1": 1], "\(usable.sslMode)")
        }
        let other = try TemporaryDirectory("governor-other-ca")
        defer { other.remove() }
        let openssl = try Executables.onPath("openssl")
        _ = try runProcess(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=another CA",
                                     "-keyout", other.file("ca.key"), "-out", other.file("ca.pem")])
        for refused in [try location(.disable), try location(.verifyFull, host: "localhost", ca: other.file("ca.pem"))] {
            await #expect(throws: StoreError.self, "\(refused.sslMode)") {
                let state = try await PostgresState.connect(to: refused, logger: logger)
                state.close()
            }
        }
    }

    @Test("two governors store the same window at the same moment: one version wins and both get it")
    func concurrentGovernorsAgree() async throws {
        let server = try TestPostgres.shared()
        let name = TestPostgres.uniqueName("race")
        _ = try server.freshDatabase(name)
        // Two pools, as two governor processes have; both migrate at once (the advisory lock takes turns).
        async let first = Backend.postgres("race", database: name)
        async let second = Backend.postgres("race", database: name)
        let governors = try await [first, second]
        defer { governors.forEach { $0.close() } }
        for round in 0..<20 {
            let start = 1_795_420_800 + Int64(round) * 14_400
            let versions = (0..<2).map { index in
                Self.window(start: start, runs: (0..<10).map { ScheduledRun(probe: "p\($0)", runAt: start + Int64(index * 100 + $0 + 1)) })
            }
            async let a = governors[0].storeWindows([NewWindow(school: "alpha", window: versions[0], fingerprint: "a")], generatedAt: start)
            async let b = governors[1].storeWindows([NewWindow(school: "alpha", window: versions[1], fingerprint: "a")], generatedAt: start)
            let (won, lost) = try await (a, b)
            #expect(won == lost, "round \(round)")
            #expect(versions.contains(won[0]))
            let stored = try await governors[1].windows(school: "alpha", startingFrom: start, before: start + 1)
            #expect(stored.map(\.scheduled) == won, "round \(round): what is stored is what both serve")
        }
        #expect(try server.psql("SELECT count(*) FROM governor_migrations", database: name) == String(PostgresSchemaNames.count))
    }
}

/// How many migrations ``SQLiteState`` has; the PostgreSQL schema has the same names.
enum PostgresSchemaNames {
    static let count = SQLiteStateTests.allVersions.count
}

extension StoredRun {
    func with(runAt: UnixTime) -> StoredRun {
        StoredRun(school: school, probe: probe, runAt: runAt, windowStart: windowStart, windowEnd: windowEnd)
    }
}

extension TestResult {
    func with(_ change: (inout TestResult) -> Void) -> TestResult {
        var copy = self
        change(&copy)
        return copy
    }
}

@Suite("PostgreSQL errors as the operator reads them")
struct PostgresErrorTests {
    /// postgres-nio's errors print "Generic description to prevent accidental
    /// leakage": a failed start said nothing else. The server's own words reach the
    /// operator; the query's bound values never do.
    @Test("PostgreSQL errors name the server's message and SQLSTATE, never the bound values")
    func postgresErrorsSayWhat() async throws {
        let server = try TestPostgres.shared()
        let missing = TestPostgres.uniqueName("missing")
        var location = try PostgresLocation(url: "postgres://\(server.user)@127.0.0.1:\(server.port)/\(missing)")
        location.sslMode = .disable
        do {
            _ = try await PostgresState.connect(to: location, logger: Logger(label: "governor.test.postgres"))
            Issue.record("connected to a database that does not exist")
        } catch {
            #expect(error.message.contains("3D000") && error.message.contains("\(missing)\" does not exist"), "\(error.message)")
            #expect(!error.message.contains("Generic description"), "\(error.message)")
        }
        let state = try await Backend.postgres("errors")
        defer { state.close() }
        do {
            try await state.saveSchoolSources(["schools/a.cfg": "token = secret-value\u{0}"], at: 1)
            Issue.record("PostgreSQL took a NUL byte in text")
        } catch {
            let text = "\(error)"
            #expect(text.contains("22021") && text.contains("invalid byte sequence"), "\(text)")
            #expect(!text.contains("secret-value") && !text.contains("Generic description"), "\(text)")
        }
    }
}
