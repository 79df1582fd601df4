import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// One incident for one outage, end to end: real governors, a real SMTP server, the
/// state on SQLite and on PostgreSQL. 40 schools of one ISP go DOWN within seconds
/// beside 3 unrelated ones; what reaches the mailbox is one incident email and the
/// unrelated schools' own, then one email when the ISP's schools are back.
@Suite("incidents: many schools down together are one email", .serialized, .timeLimit(.minutes(4)))
struct IncidentProcessTests {
    let http = HTTPTestClient()

    static let acme = (0..<40).map { "acme-\($0)" }
    static let unrelated = ["u-0", "u-1", "u-2"]

    /// The fleet: 40 schools with isp=acme-telecom and 3 with an ISP each, one probe
    /// each, whose one run lies in a window of 5 s from 3 s on.
    static func write(_ directory: TemporaryDirectory, smtp: String, state: String) throws {
        let (zone, offset) = ServeProcessTests.daytimeZone()
        try directory.write("governor.cfg", AlertProcessTests.governorFile(smtp: smtp)
            .replacing("state = state.sqlite", with: state)
            .replacing("grace = 1s", with: "grace = 1s\nmissed_runs = 1\nincident_wait = 15s\nincident_span = 2m"))
        for name in acme {
            try directory.write("schools/\(name).cfg", AlertProcessTests.school(name, probes: ["\(name)-p"], start: 3, windows: 1, zone: zone, offset: offset)
                .replacing("[School]\n", with: "[School]\nlabels = isp=acme-telecom, district=d-\(name.suffix(1))\n"))
        }
        for (index, name) in unrelated.enumerated() {
            try directory.write("schools/\(name).cfg", AlertProcessTests.school(name, probes: ["\(name)-p"], start: 3, windows: 1, zone: zone, offset: offset)
                .replacing("[School]\n", with: "[School]\nlabels = isp=other-\(index)\n"))
        }
    }

    /// The messages so far, parsed, by subject.
    static func subjects(_ smtp: TestSMTPServer) throws -> [String] {
        try smtp.messages().map { try AlertProcessTests.parsed($0)["Subject"] ?? "" }.sorted()
    }

    @Test("40 schools of one ISP DOWN: one incident email and none per school; 3 unrelated schools get their own; 30 back: one email says who is back and who is not",
          arguments: Backend.allCases)
    func oneIncident(_ backend: Backend) async throws {
        let smtp = try TestSMTPServer()
        defer { smtp.remove() }
        let directory = try TemporaryDirectory("governor-incident")
        defer { directory.remove() }
        var state = "state = state.sqlite"
        var database: String?
        if backend == .postgres {
            let server = try TestPostgres.shared()
            let name = TestPostgres.uniqueName("incident")
            _ = try server.freshDatabase(name)
            database = name
            state = "state = postgres://\(server.user)@127.0.0.1:\(server.port)/\(name)\nsslmode = disable"
        }
        try Self.write(directory, smtp: smtp.url, state: state)
        // On PostgreSQL, two governors share the state: each email is sent once between them.
        var governors = [try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("a.log"))]
        if backend == .postgres { governors.append(try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("b.log"))) }
        defer { governors.forEach { $0.stop() } }
        let logs = { governors.map { $0.log.suffix(4000) }.joined(separator: "\n----\n") }

        // Every run lies within 3–8 s; DOWN by 10 s; the DOWN emails wait 15 s for an incident.
        func waitFor(_ count: Int, seconds: Int) async throws {
            for _ in 0..<(seconds * 4) where smtp.messages().count < count { try await Task.sleep(for: .milliseconds(250)) }
        }
        try await waitFor(4, seconds: 60)
        // Room for anything more, were a school's own email sent as well.
        try await Task.sleep(for: .seconds(5))
        var subjects = try Self.subjects(smtp)
        #expect(subjects.count == 4, "\(subjects)\n\(logs())")
        #expect(subjects.contains { $0.hasPrefix("[governor] INCIDENT: 40 schools with isp=acme-telecom DOWN since ") }, "\(subjects)")
        for name in Self.unrelated {
            #expect(subjects.contains("[governor] DOWN: probe \(name)-p of school \(name)"), "\(subjects)")
        }
        #expect(!subjects.contains { $0.contains("school acme-") }, "no acme school's own email: \(subjects)")
        #expect(subjects.count { $0.hasPrefix("[governor] INCIDENT") } == 1, "one incident: \(subjects)\n\(logs())")
        let opened = try AlertProcessTests.parsed(try #require(smtp.messages().first { $0.contains("INCIDENT:") }))
        let body = opened["body"] ?? ""
        #expect(body.contains("40 schools with isp=acme-telecom went DOWN together") && body.contains("DOWN (40):"), "\(body)")
        #expect(body.contains("  acme-17, DOWN since ") && body.contains("[isp=acme-telecom, district=d-7]"), "\(body)")
        #expect(body.contains("own DOWN emails are not sent"), "\(body)")
        #expect(body.contains("Dashboard: http://governor.example.org/#incident-"), "\(body)")
        #expect(opened["Message-ID"]?.hasPrefix("<incident-") == true && opened["Message-ID"]?.hasSuffix("-opened@example.org>") == true)
        #expect(opened["To"]?.contains("acme-3-it@example.org") == true, "the schools' alert_to too: \(opened["To"] ?? "")")

        // Every governor lists it; every acme school's probe is DOWN as usual.
        for governor in governors {
            var incidents: [[String: Any]] = []
            for _ in 0..<20 {
                incidents = try await http.get("\(governor.baseURL)/v1/incidents").json()["incidents"] as? [[String: Any]] ?? []
                if !incidents.isEmpty { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(incidents.count == 1, "\(incidents)\n\(governor.log.suffix(3000))")
            #expect(incidents.first?["scope"] as? String == "isp=acme-telecom" && incidents.first?["open"] as? Bool == true)
            #expect((incidents.first?["schools"] as? [String])?.count == 40)
            let page = try await http.get("\(governor.baseURL)/").body
            #expect(page.contains("40 schools with isp=acme-telecom DOWN since"), "the dashboard shows it")
            let metrics = try await http.get("\(governor.baseURL)/metrics").body
            #expect(metrics.contains("governor_incidents_open 1.0"), "\(metrics.split(separator: "\n").filter { $0.contains("incident") })")
        }
        #expect(try await http.get("\(governors[0].baseURL)/v1/probes/acme-5-p").json()["status"] as? String == "DOWN")

        // 30 of the 40 are heard from again: the incident ends with one email; no acme school's own UP.
        for name in Self.acme.prefix(30) {
            #expect(try await http.get("\(governors[0].baseURL)/v1/probes/\(name)-p/next", token: "\(name)-p-token").status == 200)
        }
        try await waitFor(5, seconds: 30)
        try await Task.sleep(for: .seconds(4))
        subjects = try Self.subjects(smtp)
        #expect(subjects.count == 5, "\(subjects)\n\(logs())")
        #expect(subjects.contains("[governor] INCIDENT over: 30 of 40 schools with isp=acme-telecom back, 10 still DOWN"), "\(subjects)")
        let closed = try AlertProcessTests.parsed(try #require(smtp.messages().first { $0.contains("INCIDENT over") }))
        #expect(closed["body"]?.contains("Back (30):") == true && closed["body"]?.contains("Still DOWN (10):") == true, "\(closed["body"] ?? "")")
        #expect(closed["body"]?.contains("  acme-39, DOWN since ") == true, "\(closed["body"] ?? "")")
        let listed = try await http.get("\(governors[0].baseURL)/v1/incidents").json()["incidents"] as? [[String: Any]] ?? []
        #expect(listed.first?["open"] as? Bool == false && (listed.first?["still_down"] as? [String])?.count == 10, "\(listed)")
        if let database {
            let server = try TestPostgres.shared()
            #expect(try server.psql("SELECT count(*) FROM incidents", database: database) == "1", "one incident across the governors")
            #expect(try server.psql("SELECT count(*) FROM outbox WHERE message_id LIKE 'incident-%'", database: database) == "2")
        }
    }
}
