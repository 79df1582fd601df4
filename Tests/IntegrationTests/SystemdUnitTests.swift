import Foundation
import GovernorTestSupport
import Testing

@Suite("systemd unit")
struct SystemdUnitTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("systemd/governor.service passes systemd-analyze verify")
    func verify() throws {
        // `verify` checks that ExecStart's binary exists; point it at the one just built.
        let unit = try String(contentsOfFile: Self.packageRoot + "/systemd/governor.service", encoding: .utf8)
        let directory = try TemporaryDirectory("governor-unit")
        defer { directory.remove() }
        let path = try directory.write("governor.service", unit.replacingOccurrences(of: "/usr/bin/governor", with: try Executables.built("governor")))
        let result = try runProcess(Executables.onPath("systemd-analyze"), ["verify", path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        for directive in ["Type=notify", "ExecReload=/bin/sh -c 'kill -HUP $MAINPID'", "WatchdogSec=", "Restart=on-failure", "User=governor",
                          "StateDirectory=governor", "NoNewPrivileges=yes", "ProtectSystem=strict",
                          "ProtectHome=yes", "PrivateTmp=yes", "LimitNOFILE=65536", "LimitNICE=-4"] {
            #expect(unit.contains(directive), "missing \(directive)")
        }
    }
}

@Suite("systemd probe unit")
struct ProbeUnitTests {
    @Test("systemd/governor-probe.service passes systemd-analyze verify and restarts always")
    func verify() throws {
        let unit = try String(contentsOfFile: SystemdUnitTests.packageRoot + "/systemd/governor-probe.service", encoding: .utf8)
        let directory = try TemporaryDirectory("governor-unit")
        defer { directory.remove() }
        let path = try directory.write("governor-probe.service",
                                       unit.replacingOccurrences(of: "/usr/bin/governor-probe", with: try Executables.built("governor-probe")))
        let result = try runProcess(Executables.onPath("systemd-analyze"), ["verify", path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(!unit.contains("RestrictRealtime=yes"), "the probe's start takes real-time priority")
        for directive in ["Restart=always", "RestartSec=", "RestartPreventExitStatus=78", "LimitNICE=-4", "LimitRTPRIO=1",
                          "ExecCondition=/usr/bin/governor-probe check --config /etc/governor-probe/probe.cfg", "User=governor-probe", "StateDirectory=governor-probe", "NoNewPrivileges=yes", "ProtectSystem=strict"] {
            #expect(unit.contains(directive), "missing \(directive)")
        }
    }
}
