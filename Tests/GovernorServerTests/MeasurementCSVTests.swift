import GovernorCore
import GovernorStore
import Testing

@testable import GovernorServer

@Suite("The measurements CSV")
struct MeasurementCSVTests {
    @Test("a text cell is quoted when it must be, and never read as a formula", arguments: [
        ("speed.example.net", "speed.example.net"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
        ("-1", "'-1"),
        ("", ""),
    ])
    func field(text: String, cell: String) {
        #expect(MeasurementCSV.field(text) == cell)
    }

    @Test("one row per measurement, its cells in the header's order, absent figures empty")
    func line() {
        let row = StoredMeasurement(resultID: 42, probe: "p1", school: "riverside", measuredAtMs: 1_795_421_400_004,
                                    measurement: SpeedMeasurement(tool: .ndt7, downloadMbps: 93.14, uploadMbps: 18.45, minRTTMs: 11.2,
                                                                  serverName: "ndt.example", clientIP: "203.0.113.45", downloadID: "d", uploadID: "u"))
        #expect(MeasurementCSV.line(row) == "2026-11-23T08:10:00.004Z,riverside,p1,42,ndt7,93.14,18.45,11.2,,,,ndt.example,,203.0.113.45,d,u,,\r\n")
        #expect(MeasurementCSV.header.split(separator: ",").count == MeasurementCSV.line(row).split(separator: ",", omittingEmptySubsequences: false).count)
    }

    @Test("a group run's member names its run time and group in the last two columns")
    func groupRun() {
        let row = StoredMeasurement(resultID: 43, probe: "lab-1", school: "riverside", measuredAtMs: 1_795_421_400_001,
                                    measurement: SpeedMeasurement(tool: .iperf3, downloadMbps: 94.5), runAt: 1_795_421_400, group: "lab")
        #expect(MeasurementCSV.line(row) == "2026-11-23T08:10:00.001Z,riverside,lab-1,43,iperf3,94.5,,,,,,,,,,,2026-11-23T08:10:00Z,lab\r\n")
        #expect(MeasurementCSV.header.hasSuffix(",run_at,group\r\n"))
    }
}
