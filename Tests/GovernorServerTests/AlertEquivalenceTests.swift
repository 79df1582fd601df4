import Foundation
import GovernorCore
import GovernorStore
import GovernorTestSupport
import Testing

@testable import GovernorServer

/// The alert judgement looks only at the probes something is due for. This holds
/// it to the rule it replaces: on a manual clock, it queues exactly the emails that
/// judging every probe at every pass queues, over a day of 10,000 probes with a
/// pass every five minutes, and over two busy hours of 100 probes with a pass every
/// second, as `governor serve` makes them. (Judging all 10,000 probes every second
/// for a day takes the debug build an hour; the property does not depend on the
/// interval, which the second case covers.)
@Suite("Alert judgement: only what is due, the same emails")
struct AlertEquivalenceTests {
    static let probesPerSchool = 10
    static let dayStart: UnixTime = 1_795_392_000  // 2026-11-23T00:00:00Z

    /// A school of ten probes; `windows` boundaries a day from 06:00 to 20:00, one run per probe in each.
    static func school(_ index: Int, windows: Int) -> String {
        let minutes = 14 * 60 / windows
        let boundaries = (0...windows).map { index -> String in
            let minute: Int = 360 + index * minutes
            return String(format: "%02d%02d", minute / 60, minute % 60)
        }
        return """
            [School]
            name = school-\(index)
            timezone = UTC
            [Timing]
            boundaries = \(boundaries.joined(separator: " "))
            overnight = no
            runs_per_period = 1
            delay = 1
            [Probes]
            ids = \((0..<probesPerSchool).map { "s\(index)-p\($0)" }.joined(separator: " "))
            """
    }

    /// Whether probe `probe` of school `school` answers its run at `time`: most always
    /// do; some fall silent for good at 10:00; some are away from 08:00 to 09:30;
    /// some never answer; the whole of school 7 is away from 12:00 to 18:00.
    static func answers(school: Int, probe: Int, at time: UnixTime) -> Bool {
        let minute = (time - dayStart) / 60
        if school == 7 { return !(720..<1080).contains(minute) }
        switch (school * probesPerSchool + probe) % 20 {
        case 0, 1: return minute < 600
        case 2, 3: return !(480..<570).contains(minute)
        case 4: return false
        default: return true
        }
    }

    static func governor(schools: Int, windows: Int) async throws -> TestGovernor {
        let files = Dictionary(uniqueKeysWithValues: (1..<schools).map { ("school-\($0).cfg", school($0, windows: windows)) })
        return try await TestGovernor(
            governor: "require_tokens = no\nseed = 7\n[Alerts]\nsmtp = smtp://127.0.0.1:9\nfrom = governor@example.org\nto = noc@example.org\nrepeat = 1h\n",
            school: school(0, windows: windows), otherSchools: files)
    }

    @Test("the same emails as judging every probe at every pass", .timeLimit(.minutes(5)), arguments: [
        // 10,000 probes, seven runs each over a day, a pass every five minutes.
        (1000 as Int, 7, 300 as Int64, 0 as Int64, 86_400 as Int64),
        // 100 probes, a run every 20 minutes, a pass every second from 08:00 to 10:00.
        (10 as Int, 42, 1 as Int64, 28_800 as Int64, 36_000 as Int64),
    ])
    func sameEmailsAsJudgingEveryone(schools: Int, windows: Int, step: Int64, from: Int64, through: Int64) async throws {
        let incremental = try await Self.governor(schools: schools, windows: windows)
        let everyone = try await Self.governor(schools: schools, windows: windows)
        defer {
            incremental.remove()
            everyone.remove()
        }
        var judgements: (AlertJudgement?, AlertJudgement?) = (nil, nil)
        var previous = Self.dayStart + from
        for now in stride(from: Self.dayStart + from, through: Self.dayStart + through, by: Int(step)) {
            for governor in [incremental, everyone] {
                governor.clock.set(Double(now))
                await governor.parts.scheduler.generateDueWindows()
            }
            // The probes that answer their runs of the last step: a contact a few seconds after each.
            let due = try await incremental.parts.database.judgeableRuns(after: previous, through: now)
            for (name, runs) in due {
                let parts = name.dropFirst().split(separator: "-p")
                guard let school = Int(parts[0]), let probe = Int(parts[1]) else { continue }
                for run in runs where Self.answers(school: school, probe: probe, at: run) {
                    for governor in [incremental, everyone] { governor.parts.contacts.record(name, at: run + 3) }
                }
            }
            judgements.0 = try await incremental.parts.alertService.evaluate(judgements.0)
            judgements.1 = try await everyone.parts.alertService.evaluate(judgements.1, full: true)
            previous = now
        }

        func mail(_ governor: TestGovernor) async throws -> [String] {
            try await governor.parts.database.inspection.dueOutboxMessages(at: .max, limit: 100_000)
                .map { "\($0.createdAt) \($0.recipients) \($0.subject)\n\($0.body)" }.sorted()
        }
        let sent = try await mail(incremental), expected = try await mail(everyone)
        #expect(sent == expected)
        #expect(sent.count == expected.count)
        // The day had every kind of email in it.
        let subjects = sent.map { String($0.split(separator: "\n").first ?? "") }
        #expect(subjects.contains { $0.contains("DOWN: probe") }, "\(subjects.prefix(5))")
        #expect(subjects.contains { $0.contains("UP: probe") })
        #expect(subjects.contains { $0.contains("still DOWN") })
        // And both governors hold the same state for every probe.
        let states = (try await incremental.parts.database.alertStates(), try await everyone.parts.database.alertStates())
        #expect(states.0 == states.1 && states.0.count == schools * Self.probesPerSchool)
    }
}
