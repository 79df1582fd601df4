import Foundation
import GovernorTestSupport
import Testing

/// Both packages under a real systemd 252: a Debian 12 root made by debootstrap
/// (cached in .build/nspawn), booted with systemd-nspawn, with a network of its own
/// that holds only loopback. Every step is what an operator does, run inside
/// with apt-get, systemctl and journalctl; the API is asked over loopback inside.
@Suite("Debian packages under systemd", .serialized)
struct SystemdContainerTests {
    @Test("install, start, reload, a broken file, the probe's run, the hardening, the watchdog, an upgrade and a purge",
          .timeLimit(.minutes(20)))
    func lifecycle() async throws {
        try await offThePool { try Self.lifecycleSteps() }
    }

    static func lifecycleSteps() throws {
        let files = try BuiltPackages.files.get()
        // Everything the packages depend on is in the root, so apt installs them with
        // no network, as on any Debian 12 machine that has those packages; and an sshd,
        // the push probe the governor dispatches to.
        let depends = try BuiltPackages.dependencies(of: files.governor).union(try BuiltPackages.dependencies(of: files.probe))
        let image = try DebianRoot.cached(including: depends.sorted() + ["openssh-server"])

        // The previous version: the same files under a lower version, to upgrade from.
        let previous = try TemporaryDirectory("governor-previous-debs")
        defer { previous.remove() }
        let previousVersion = files.version + "~previous"
        for deb in [files.governor, files.probe] {
            let tree = previous.path + "/tree"
            try #require(try runProcess("/usr/bin/dpkg-deb", ["-R", deb, tree]).status == 0)
            let control = tree + "/DEBIAN/control"
            let text = try String(contentsOfFile: control, encoding: .utf8)
            try text.replacingOccurrences(of: "Version: \(files.version)\n", with: "Version: \(previousVersion)\n")
                .write(toFile: control, atomically: true, encoding: .utf8)
            let name = (deb as NSString).lastPathComponent.replacingOccurrences(of: "_\(files.version)_", with: "_\(previousVersion)_")
            // Fast compression: this file lives only as long as the test.
            let rebuilt = try runProcess("/usr/bin/dpkg-deb", ["--root-owner-group", "-Zgzip", "-z1", "--build", tree, previous.path + "/" + name])
            try #require(rebuilt.status == 0, "\(rebuilt.stderr)")
            try FileManager.default.removeItem(atPath: tree)
        }

        let started = Date()
        let container = try BootedContainer(image: image, binds: [(files.directory, "/debs"), (previous.path, "/debs-previous")])
        defer { container.stop() }
        let booted = Date()
        let shell = ContainerShell(container: container)

        // 1. Install the previous version, as docs/install.md says.
        let install = try container.run("apt-get install -y -q /debs-previous/governor_\(previousVersion)_amd64.deb /debs-previous/governor-probe_\(previousVersion)_amd64.deb", timeout: 300)
        try #require(install.status == 0, "apt-get install: \(install.stdout)\(install.stderr)")
        #expect(!(install.stdout + install.stderr).contains("Could not execute systemctl"), "\(install.stdout)\(install.stderr)")

        let service = try shell.properties("governor", ["Type", "ActiveState", "SubState", "MainPID", "UnitFileState", "NRestarts"])
        #expect(service["Type"] == "notify")
        // A Type=notify unit is active only once the service sent READY=1.
        let startLog = try shell.journal("governor")
        #expect(service["ActiveState"] == "active" && service["SubState"] == "running", "\(service)\n\(startLog)")
        #expect(service["UnitFileState"] == "enabled")
        let health = try shell.get("/healthz")
        #expect(health.status == 200 && health.body.contains("\"version\":\"\(files.version)\""), "\(health)")
        #expect(try container.output("getent passwd governor").contains(":/var/lib/governor:/usr/sbin/nologin"))
        #expect(try container.output("stat -c '%U:%G %a' /var/lib/governor /etc/governor/governor.cfg /etc/governor/schools")
            == "governor:governor 750\nroot:governor 640\nroot:root 755\n")
        #expect(try container.output("ls /var/lib/governor").contains("state.sqlite"))

        // The probe has no id, token or server yet: skipped by its condition, not failed, not restarted.
        let unconfigured = try shell.properties("governor-probe", ["ActiveState", "Result", "NRestarts", "UnitFileState"])
        #expect(unconfigured["ActiveState"] == "inactive" && unconfigured["Result"] == "exec-condition", "\(unconfigured)")
        #expect(unconfigured["UnitFileState"] == "enabled")
        #expect(try shell.journal("governor-probe", priority: "err").contains("/etc/governor-probe/probe.cfg: 'id' is missing"))
        #expect(try container.output("stat -c '%U:%G %a' /etc/governor-probe/probe.cfg /var/lib/governor-probe") == "root:governor-probe 640\ngovernor-probe:governor-probe 750\n")

        // 2. The operator's edits: a results log and push mode in governor.cfg (a restart),
        // a school (a reload). The push probe is this container's sshd, as the user
        // `probe`, with a key the service keeps in its state directory.
        try container.output("""
            useradd --create-home --shell /bin/sh probe
            su -s /bin/sh -c "ssh-keygen -q -t ed25519 -N '' -f /var/lib/governor/id_ed25519" governor
            install -d -o probe -g probe -m 0700 /home/probe/.ssh
            install -o probe -g probe -m 0600 /var/lib/governor/id_ed25519.pub /home/probe/.ssh/authorized_keys
            sed -i -e 's|^\\[Governor\\]$|[Governor]\\nresults_log = /var/lib/governor/results.log|' \
                -e 's|^\\[SSH\\]$|[SSH]\\nuser = probe\\nidentity = /var/lib/governor/id_ed25519\\nhost_key_check = accept-new\\ncommand = echo pushed-in-container {probe}|' \
                /etc/governor/governor.cfg
            systemctl restart governor
            """)
        let token = try container.output("governor token p1")
        let tokenValue = try #require(token.split(separator: "\n").first { $0.hasPrefix("token: ") }).dropFirst("token: ".count)
        let digest = try #require(token.split(separator: "\n").first { $0.hasPrefix("token_sha256 = ") })
        let school = Self.schoolFile(tokenLine: String(digest), now: Date())
        try shell.write("/etc/governor/schools/riverside.cfg", school.text)
        let check = try container.run("governor check")
        #expect(check.status == 0, "governor check: \(check.stdout)\(check.stderr)")
        try container.output("systemd-analyze log-level debug")
        let reloadMark = try shell.now()
        try container.output("systemctl reload governor")
        try container.output("systemd-analyze log-level info")
        let mainPID = try #require(Int(try shell.properties("governor", ["MainPID"])["MainPID"] ?? ""))
        let manager = try container.output("journalctl --no-pager -o cat _PID=1 --since @\(reloadMark)")
        let reloading = manager.range(of: "governor.service: Got notification message from PID \(mainPID) (RELOADING=1")
        let ready = manager.range(of: "governor.service: Got notification message from PID \(mainPID) (READY=1)")
        #expect(reloading != nil && ready != nil && reloading!.lowerBound < ready!.lowerBound,
                "systemd did not see RELOADING=1 then READY=1:\n\(manager.split(separator: "\n").filter { $0.contains("governor") && !$0.contains("WATCHDOG") }.suffix(30).joined(separator: "\n"))")
        let schools = try shell.get("/v1/schools")
        #expect(schools.status == 200 && schools.body.contains("\"school\":\"riverside\""), "\(schools)")

        // 3. The probe, configured, runs its test at its time; the result reaches the governor.
        try shell.write("/etc/governor-probe/token", String(tokenValue) + "\n")
        try container.output("chgrp governor-probe /etc/governor-probe/token && chmod 0640 /etc/governor-probe/token")
        try container.output("""
            sed -i -e 's|^# id = .*|id = p1|' -e 's|^# token_file = .*|token_file = /etc/governor-probe/token|' \
                -e 's|^# server = .*|server = http://127.0.0.1:8080|' -e 's|^command = .*|command = echo measured-in-container {probe}|' \
                /etc/governor-probe/probe.cfg
            governor-probe check && systemctl restart governor-probe
            """)
        #expect(try shell.properties("governor-probe", ["ActiveState"])["ActiveState"] == "active")
        let next = try container.run("governor-probe next")
        #expect(next.status == 0 && next.stdout.contains("next run: "), "governor-probe next: \(next.stdout)\(next.stderr)")

        // 4. A broken school file keeps the school's last good configuration; the error names file and line.
        let brokenMark = try shell.now()
        try shell.write("/etc/governor/schools/riverside.cfg", school.text + "this line is not a key\n")
        try container.output("systemctl reload governor")
        let errors = try shell.journal("governor", priority: "err", since: brokenMark)
        #expect(errors.contains("/etc/governor/schools/riverside.cfg:\(school.lineCount + 1)"), "error lines since the broken reload:\n\(errors)")
        #expect(try shell.get("/v1/schools").body.contains("\"school\":\"riverside\""))
        #expect(try shell.properties("governor", ["ActiveState"])["ActiveState"] == "active")
        try shell.write("/etc/governor/schools/riverside.cfg", school.text)
        try container.output("systemctl reload governor")

        // 5. The hardening: in the service's own view of the file system, as its user,
        // the state directory is writable, and /etc and /home are not even where the
        // user's permissions would allow it (directories it owns there).
        try container.output("install -d -o governor -g governor /etc/governor/owned-by-governor /home/owned-by-governor")
        let asService = "nsenter --target \(mainPID) --mount --root --wd --setuid $(id -u governor) --setgid $(id -g governor) --"
        #expect(try container.run("\(asService) touch /var/lib/governor/written-by-the-service && rm /var/lib/governor/written-by-the-service").status == 0)
        let etc = try container.run("\(asService) touch /etc/governor/owned-by-governor/written-by-the-service")
        #expect(etc.status != 0 && etc.stderr.contains("Read-only file system"), "\(etc)")
        let home = try container.run("\(asService) touch /home/owned-by-governor/written-by-the-service")
        #expect(home.status != 0, "the service wrote under /home: \(home)")
        #expect(try container.run("su -s /bin/sh -c 'touch /home/owned-by-governor/x' governor").status == 0,
                "outside the service the same user may write there, so the unit is what forbids it")
        #expect(try container.run("test -e /etc/governor/owned-by-governor/written-by-the-service || test -e /home/owned-by-governor/written-by-the-service").status != 0)
        try container.output("rm -r /etc/governor/owned-by-governor /home/owned-by-governor")

        // The runs of both probes: pulled by governor-probe, pushed over SSH by the governor.
        var pulled = HTTPAnswer(status: 0, body: ""), pushed = pulled
        let resultDeadline = Date().addingTimeInterval(Double(school.secondsToLastWindowEnd) + 60)
        while Date() < resultDeadline {
            pulled = try shell.get("/v1/probes/p1/results")
            pushed = try shell.get("/v1/probes/127.0.0.1/results")
            if pulled.body.contains("measured-in-container p1") && pushed.body.contains("pushed-in-container 127.0.0.1") { break }
            Thread.sleep(forTimeInterval: 2)
        }
        let probeLog = try shell.journal("governor-probe")
        #expect(pulled.body.contains("measured-in-container p1"), "no result of the probe's run reached the governor: \(pulled)\n\(probeLog)")
        let governorLog = try shell.journal("governor")
        #expect(pushed.body.contains("pushed-in-container 127.0.0.1"), "no pushed run: \(pushed)\n\(governorLog.suffix(3000))")
        let log = try container.output("cat /var/lib/governor/results.log")
        #expect(log.contains("measured-in-container p1") && log.contains("pushed-in-container 127.0.0.1"))
        #expect(try container.output("ls /var/lib/governor").split(separator: "\n").contains("known_hosts"))
        #expect(try container.output("cat /var/lib/governor/known_hosts").contains("127.0.0.1"))
        #expect(try container.output("ls /var/lib/governor-probe").contains("lease.json"))

        // 6. The watchdog: a stopped process is killed and restarted; the announced runs stay.
        let announced = try shell.storedRuns()
        #expect(!announced.isEmpty)
        let stoppedAt = Date()
        try container.output("kill -STOP \(mainPID)")
        var restarted: [String: String] = [:]
        while Date().timeIntervalSince(stoppedAt) < 30 + 60 {
            restarted = try shell.properties("governor", ["MainPID", "ActiveState", "SubState"])
            if restarted["MainPID"] != "\(mainPID)" && restarted["MainPID"] != "0" && restarted["ActiveState"] == "active" { break }
            Thread.sleep(forTimeInterval: 1)
        }
        let watchdogSeconds = Date().timeIntervalSince(stoppedAt)
        #expect(restarted["ActiveState"] == "active" && restarted["MainPID"] != "\(mainPID)",
                "not restarted within WatchdogSec (30 s) plus 60 s: \(restarted)")
        #expect(try shell.journal("governor").contains("Watchdog timeout"))
        let afterRestart = try shell.storedRuns()
        for (window, runs) in announced {
            #expect(afterRestart[window] == runs, "window \(window) changed across the watchdog restart: \(runs) → \(afterRestart[window] ?? "missing")")
        }

        // 7. The upgrade keeps the operator's configuration and the state, and restarts the service.
        let beforeUpgrade = try shell.properties("governor", ["MainPID"])["MainPID"]
        // docs/install.md's commands, as written (with -y: no terminal answers here).
        let upgrade = try container.run("cd /debs && apt install -y ./governor_*_amd64.deb && apt install -y ./governor-probe_*_amd64.deb", timeout: 300)
        try #require(upgrade.status == 0, "apt-get upgrade: \(upgrade.stdout)\(upgrade.stderr)")
        #expect(try container.output("dpkg-query -W -f '${Version}' governor governor-probe") == files.version + files.version)
        #expect(try container.output("cat /etc/governor/governor.cfg").contains("results_log = /var/lib/governor/results.log"))
        #expect(try container.output("cat /etc/governor-probe/probe.cfg").contains("id = p1"))
        #expect(try container.run("ls /etc/governor/*.dpkg-* /etc/governor-probe/*.dpkg-* 2>/dev/null").stdout.isEmpty)
        let upgraded = try shell.properties("governor", ["MainPID", "ActiveState"])
        #expect(upgraded["ActiveState"] == "active" && upgraded["MainPID"] != beforeUpgrade, "not restarted on upgrade: \(upgraded)")
        #expect(try shell.properties("governor-probe", ["ActiveState"])["ActiveState"] == "active")
        let afterUpgrade = try shell.storedRuns()
        for (window, runs) in announced {
            #expect(afterUpgrade[window] == runs, "window \(window) changed across the upgrade")
        }

        // libdispatch's thread-priority lines: gone wherever systemd could apply LimitNICE=-4.
        let limits = try container.output("cat /proc/$(systemctl show -p MainPID --value governor)/limits")
        let priorityLines = try shell.journal("governor").split(separator: "\n").filter { $0.contains("Failed to set thread priority") }
        let raised = limits.split(separator: "\n").contains { $0.hasPrefix("Max nice priority") && $0.split(separator: " ").contains("24") }
        if raised {
            #expect(priorityLines.isEmpty, "\(priorityLines)")
        } else {
            // A host without CAP_SYS_RESOURCE (this kind of CI sandbox) cannot raise the limit
            // for anyone; the unit asks for it all the same.
            #expect(try shell.properties("governor", ["LimitNICE"])["LimitNICE"] == "24")
        }
        // The probe took real-time priority 1 for its tests' start where systemd could raise
        // the limit, and said it spun where it could not.
        #expect(try shell.properties("governor-probe", ["LimitRTPRIO"])["LimitRTPRIO"] == "1")
        let probeLimits = try container.output("cat /proc/$(systemctl show -p MainPID --value governor-probe)/limits")
        let realtimeAllowed = probeLimits.split(separator: "\n").contains { $0.hasPrefix("Max realtime priority") && $0.split(separator: " ").contains("1") }
        let probeJournal = try shell.journal("governor-probe")
        #expect(probeJournal.contains(realtimeAllowed ? "tests start at real-time priority" : "tests start by spinning the last 2 ms"), "\(probeJournal.suffix(3000))")

        // 8. Remove stops the services and keeps configuration and state; purge removes
        // what the packages made and leaves what the operator made.
        let remove = try container.run("apt-get remove -y -q governor governor-probe", timeout: 300)
        try #require(remove.status == 0, "apt-get remove: \(remove.stdout)\(remove.stderr)")
        #expect(try container.run("readlink /proc/[0-9]*/exe | grep -q /usr/bin/governor").status != 0, "a process outlived the removal")
        #expect(try container.run("test -f /etc/governor/governor.cfg && test -f /var/lib/governor/state.sqlite && test -f /etc/governor-probe/probe.cfg && getent passwd governor").status == 0,
                "remove must keep the configuration, the state and the user")
        let purge = try container.run("apt-get purge -y -q governor governor-probe", timeout: 300)
        try #require(purge.status == 0, "apt-get purge: \(purge.stdout)\(purge.stderr)")
        for path in ["/var/lib/governor", "/var/lib/governor-probe", "/etc/governor/governor.cfg", "/etc/governor-probe/probe.cfg",
                     "/lib/systemd/system/governor.service", "/lib/systemd/system/governor-probe.service", "/usr/bin/governor",
                     "/etc/systemd/system/multi-user.target.wants/governor.service"] {
            #expect(try container.run("test -e \(path)").status != 0, "\(path) is left after the purge")
        }
        #expect(try container.run("getent passwd governor || getent passwd governor-probe || getent group governor").status != 0)
        #expect(try container.run("dpkg-statoverride --list").stdout.isEmpty)
        #expect(try container.run("readlink /proc/[0-9]*/exe | grep -q /usr/bin/governor").status != 0, "a governor process outlived the purge")
        #expect(try container.output("cat /etc/governor/schools/riverside.cfg") == school.text, "the operator's school file went with the purge")

        print("systemd container test: boot \(String(format: "%.1f", booted.timeIntervalSince(started))) s, "
              + "watchdog restart \(String(format: "%.1f", watchdogSeconds)) s, whole test \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// A school whose windows start half a minute from now: six windows of 40 s, one
    /// run of the pull probe p1 and one of the push probe 127.0.0.1 in each. The school's zone puts its local time near midday, so the
    /// windows never cross midnight.
    static func schoolFile(tokenLine: String, now: Date) -> (text: String, lineCount: Int, secondsToLastWindowEnd: Int) {
        let utc = Int(now.timeIntervalSince1970)
        let hour = (utc % 86_400) / 3600
        let offset = max(-12, min(14, 12 - hour))
        let zone = offset >= 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
        let start = utc + 30
        let boundaries = (0...6).map { step -> String in
            let local = ((start + 40 * step + offset * 3600) % 86_400 + 86_400) % 86_400
            return String(format: "%02d:%02d:%02d", local / 3600, (local / 60) % 60, local % 60)
        }
        let text = """
            [School]
            name = riverside
            timezone = \(zone)

            [Timing]
            boundaries = \(boundaries.joined(separator: ", "))
            runs_per_period = 1
            delay = 0
            test_duration = 2s
            overnight = no

            [Probes]
            ids = p1
            addresses = 127.0.0.1

            [Probe p1]
            \(tokenLine)

            """
        return (text, text.split(separator: "\n", omittingEmptySubsequences: false).count - 1, 30 + 6 * 40)
    }
}

struct HTTPAnswer: CustomStringConvertible {
    var status: Int
    var body: String
    var description: String { "HTTP \(status): \(body.prefix(2000))" }
}

/// The commands the container test repeats, as one operator's shell inside it.
struct ContainerShell {
    let container: BootedContainer

    /// `systemctl show` properties of a unit.
    func properties(_ unit: String, _ names: [String]) throws -> [String: String] {
        let text = try container.output("systemctl show \(unit) " + names.map { "-p \($0)" }.joined(separator: " "))
        return text.split(separator: "\n").reduce(into: [:]) { properties, line in
            guard let equals = line.firstIndex(of: "=") else { return }
            properties[String(line[..<equals])] = String(line[equals...].dropFirst())
        }
    }

    /// The unit's journal (messages only), optionally from one priority up and since a moment.
    func journal(_ unit: String, priority: String? = nil, since: String? = nil) throws -> String {
        try container.output("journalctl --no-pager -o cat -u \(unit)" + (priority.map { " -p \($0)" } ?? "") + (since.map { " --since @\($0)" } ?? ""))
    }

    /// The container's clock, as `journalctl --since @…` takes it.
    func now() throws -> String {
        try container.output("date +%s.%N").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a file inside through a here-document (the text has no line `EOF_GOVERNOR`).
    func write(_ path: String, _ text: String) throws {
        try container.output("cat > \(path) <<'EOF_GOVERNOR'\n\(text)EOF_GOVERNOR\n")
    }

    /// A GET on the governor's API, over loopback inside the container, with bash's /dev/tcp.
    func get(_ path: String) throws -> HTTPAnswer {
        let result = try container.run("""
            exec 3<>/dev/tcp/127.0.0.1/8080 || exit 7
            printf 'GET \(path) HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n' >&3
            cat <&3
            """, timeout: 20)
        // Split as UTF-16 (Foundation), where "\r\n" is two characters, not one.
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        guard result.status == 0, parts.count >= 2 else { return HTTPAnswer(status: 0, body: result.stdout + result.stderr) }
        let statusLine = parts[0].components(separatedBy: "\r\n")[0].split(separator: " ")
        return HTTPAnswer(status: statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// The stored (announced) windows of today's schedule of riverside: start → runs, as JSON text.
    func storedRuns() throws -> [String: String] {
        let answer = try get("/v1/schools/riverside/schedule")
        guard answer.status == 200, let document = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
              let windows = document["windows"] as? [[String: Any]] else {
            throw TestFailure("the schedule did not answer: \(answer)")
        }
        var stored: [String: String] = [:]
        for window in windows where window["stored"] as? Bool == true {
            guard let start = window["start"] as? String, let runs = window["runs"] else { continue }
            let data = try JSONSerialization.data(withJSONObject: runs, options: [.sortedKeys])
            stored[start] = String(decoding: data, as: UTF8.self)
        }
        return stored
    }
}
