import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

@Suite("What each school should get")
struct SchoolTargetTests {
    typealias Row = (profile: SchoolProfile, settings: MeasurementSettings, mbps: Double, source: SchoolTarget.Source, explanation: String)

    static let rows: [Row] = [
        // A contract wins over everything: it is what the school pays for.
        (SchoolProfile(contractedDownloadMbps: 100, students: 900), MeasurementSettings(targetDownloadMbps: 20, mbpsPerStudent: 1),
         100, .contract, "the contract (contracted_download_mbps = 100)"),
        // Otherwise the larger of the benchmark and what the students need.
        (SchoolProfile(students: 350), MeasurementSettings(targetDownloadMbps: 20, mbpsPerStudent: 0.1),
         35, .students, "350 students × 0.1 Mbit/s (mbps_per_student), above the national benchmark of 20 Mbit/s"),
        (SchoolProfile(students: 150), MeasurementSettings(targetDownloadMbps: 20, mbpsPerStudent: 0.1),
         20, .benchmark, "the national benchmark (target_download_mbps = 20), above 150 students × 0.1 Mbit/s = 15"),
        (SchoolProfile(), MeasurementSettings(targetDownloadMbps: 20, mbpsPerStudent: 1),
         20, .benchmark, "the national benchmark (target_download_mbps = 20)"),
        (SchoolProfile(students: 40), MeasurementSettings(mbpsPerStudent: 1),
         40, .students, "40 students × 1 Mbit/s (mbps_per_student)"),
        // Students without a rate say nothing; nothing set: the poor threshold.
        (SchoolProfile(students: 40), MeasurementSettings(poorBelowMbps: 2.5),
         2.5, .none, "none set (no contract, benchmark or students): judged against the poor threshold, 2.5 Mbit/s"),
        // An upload contract alone does not set the download target.
        (SchoolProfile(contractedUploadMbps: 10), MeasurementSettings(targetDownloadMbps: 12.5),
         12.5, .benchmark, "the national benchmark (target_download_mbps = 12.5)"),
    ]

    @Test("the target is derived one way", arguments: rows.indices)
    func derivation(_ index: Int) {
        let row = Self.rows[index]
        let target = SchoolTarget(profile: row.profile, settings: row.settings)
        #expect(target.downloadMbps == row.mbps)
        #expect(target.source == row.source)
        #expect(target.explanation == row.explanation)
    }

    @Test("the keys load with their ranges; a bad value names the file, the line and the range")
    func loading() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let timing = "[Timing]\nboundaries = 0800, 1200\nruns_per_period = 1\ndelay = 1\n"
        try directory.write("governor.cfg", """
            [Governor]
            schools = schools
            require_tokens = no
            target_download_mbps = 20
            mbps_per_student = 0.1
            poor_below_mbps = 2
            measurement_window = 14d
            """)
        try FileManager.default.createDirectory(atPath: directory.path + "/schools", withIntermediateDirectories: true)
        try directory.write("schools/a.cfg", "[School]\ncontracted_download_mbps = 100\ncontracted_upload_mbps = 20.5\nstudents = 600\n" + timing + "[Probes]\nids = pa\n")
        try directory.write("schools/b.cfg", "[School]\nstudents = 350\n" + timing + "[Probes]\nids = pb\n")
        try directory.write("schools/c.cfg", "[School]\ncontracted_download_mbps = fast\nstudents = -3\n" + timing + "[Probes]\nids = pc\n")
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        #expect(configuration.governor.measurement == MeasurementSettings(targetDownloadMbps: 20, mbpsPerStudent: 0.1, poorBelowMbps: 2, windowDays: 14))
        #expect(configuration.schools.map(\.name) == ["a", "b"])
        #expect(configuration.schools[0].profile == SchoolProfile(contractedDownloadMbps: 100, contractedUploadMbps: 20.5, students: 600))
        #expect(configuration.schools[1].target(configuration.governor.measurement).downloadMbps == 35)
        let errors = configuration.problems.filter(\.isError).map(\.description)
        #expect(errors.contains { $0.hasSuffix("schools/c.cfg:2: error: 'contracted_download_mbps' is 'fast'; expected a number from 0.001 to 10000000 (such as 20 or 2.5)") },
                "\(errors)")
        #expect(errors.contains { $0.hasSuffix("schools/c.cfg:3: error: 'students' is '-3'; expected a whole number from 1 to 10000000") }, "\(errors)")
        #expect(SchoolSummary.targetLine(of: configuration.schools[0], settings: configuration.governor.measurement)
            == "  target: 100 Mbit/s download, from the contract (contracted_download_mbps = 100); upload 20.5 Mbit/s (contracted_upload_mbps)")
    }

    @Test("rates are written as the operator wrote them")
    func format() {
        #expect(SchoolTarget.format(100) == "100")
        #expect(SchoolTarget.format(2.5) == "2.5")
        #expect(SchoolTarget.format(0.125) == "0.125")
        #expect(SchoolTarget.format(10_000_000) == "10000000")
    }
}

extension SchoolTargetTests {
    @Test("a school's schedule over daily_tests_per_egress is a warning with the numbers; within it, nothing")
    func egressBudget() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/schools", withIntermediateDirectories: true)
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\ndaily_tests_per_egress = 4\n")
        try directory.write("schools/busy.cfg", "[Timing]\nboundaries = 0800, 1200, 1600\nruns_per_period = 2\ndelay = 1\n[Probes]\nids = b1 b2\n")
        try directory.write("schools/calm.cfg", "[Timing]\nboundaries = 0800, 1200\nruns_per_period = 4\ndelay = 1\novernight = no\n[Probes]\nids = c1\n")
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        let warnings = configuration.problems.filter { !$0.isError }.map(\.description)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasSuffix("schools/busy.cfg:3: warning: school 'busy' runs 12 tests a day (2 probe(s) × 3 window(s) × 2 run(s)), "
            + "from what is likely one egress address: above daily_tests_per_egress = 4 (M-Lab asks automated clients for at most 4 tests a day per address)") == true,
                "\(warnings)")
    }
}

extension SchoolTargetTests {
    @Test("trusted_proxies: addresses and CIDR ranges; anything else is an error naming the entry, the file and the line")
    func trustedProxies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\ntrusted_proxies = 127.0.0.1, 10.0.0.0/8\n  2001:db8::/32\n")
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        #expect(configuration.governor.trustedProxies.map(\.description) == ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"])
        try directory.write("governor.cfg", "[Governor]\nrequire_tokens = no\ntrusted_proxies = 127.0.0.1, proxy.example.org\n")
        #expect {
            try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        } throws: { error in
            "\(error)".contains("governor.cfg:3: error: 'trusted_proxies' has 'proxy.example.org'; expected IP addresses or CIDR ranges")
        }
    }
}
