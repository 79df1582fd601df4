import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

/// What `governor-probe` does with a queued result for each answer the governor may
/// give: it deletes one only when the governor took it; it moves one the governor
/// can never take, or that waited past `queue_max_age`, to `rejected/` with the
/// reason; it cuts the output of one too large; it keeps everything else.
@Suite("governor-probe: queued results are never lost", .serialized, .timeLimit(.minutes(2)))
struct ProbeDeliveryTests {
    /// A stand-in governor on 127.0.0.1: `/v1/probes/gone/…` answers 404 (a school the
    /// governor does not know), `bad` 400 result_unacceptable, `big` 413
    /// result_too_large while the output is over 1000 bytes; `portal` answers every
    /// request 200 with an HTML login page (a captive portal), `liar` acknowledges a
    /// result with JSON that names another run, `far` leases a run 500 days ahead
    /// beside one two seconds ahead, and `huge` answers /next with 1e30. Each POST body
    /// it is sent is appended to `posts.jsonl`.
    static func startStub(_ directory: TemporaryDirectory) throws -> (Subprocess, Int) {
        let port = try TestSSHServer.freePort()
        let posts = directory.file("posts.jsonl")
        let stub = try directory.write("stub.py", """
            import http.server, json, time, datetime
            FAR = int(time.time()) + 500 * 86400
            LATER = int(time.time()) + 3600
            PORTAL = b"<html><head><title>SchoolNet</title></head><body>Welcome to SchoolNet. Please log in.</body></html>"
            def now_text():
                return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            def at(t):
                return datetime.datetime.fromtimestamp(min(t, 253402300799), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            def next_body(probe, run_at):
                # The whole of the contract's NextRun, as the governor answers it.
                return {"probe": probe, "school": "s", "run_at": at(run_at), "run_at_unix": run_at,
                        "window_start": at(run_at), "window_end": at(run_at), "server_time": now_text()}
            def lease_body(probe, runs, until):
                return {"probe": probe, "school": "s", "server_time": now_text(), "lease_until": at(until), "lease_until_unix": until,
                        "runs": [{"run_at": at(r), "run_at_unix": r} for r in runs], "cancelled": []}
            class H(http.server.BaseHTTPRequestHandler):
                def answer(self, status, body):
                    data = json.dumps(body).encode()
                    self.send_response(status); self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
                def portal(self):
                    self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(PORTAL))); self.end_headers(); self.wfile.write(PORTAL)
                def do_GET(self):
                    probe = self.path.split("/")[3]
                    with open("\(posts)".replace("posts", "gets"), "a") as f: f.write(json.dumps({"probe": probe, "path": self.path}) + "\\n")
                    if probe == "waiting" and "/runs" in self.path:
                        return self.answer(200, lease_body(probe, [LATER], LATER))
                    if probe == "waiting": return self.answer(200, next_body(probe, LATER))
                    if probe == "portal": return self.portal()
                    if probe == "huge": return self.answer(200, dict(next_body(probe, LATER), run_at_unix=1e30))
                    soon = int(time.time()) + 2
                    if probe == "far" and "/runs" in self.path:
                        return self.answer(200, lease_body(probe, [soon, FAR], soon + 3600))
                    self.answer(404, {"error": "not_found", "message": "no such endpoint"})
                def do_POST(self):
                    probe = self.path.split("/")[3]
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    with open("\(posts)", "a") as f: f.write(json.dumps({"probe": probe, "body": body}) + "\\n")
                    if probe == "portal": return self.portal()
                    if probe == "gone": return self.answer(404, {"error": "not_found", "message": "no probe is configured with the id 'gone'"})
                    if probe == "bad": return self.answer(400, {"error": "result_unacceptable", "message": "'run_at' is far from any schedule"})
                    if probe == "big" and len(body["output"].encode()) > 1000:
                        return self.answer(413, {"error": "result_too_large", "message": "cut its output and send it again"})
                    if probe == "liar": return self.answer(201, {"id": 9, "output_truncated": False, "run_at": "2020-01-01T00:00:00Z", "idempotency_key": "another"})
                    self.answer(201, {"id": 1, "output_truncated": bool(body.get("output_truncated")), "run_at": body["run_at"],
                                      "idempotency_key": body.get("idempotency_key")})
                def log_message(self, *args): pass
            http.server.HTTPServer(("127.0.0.1", \(port)), H).serve_forever()
            """)
        let process = try Subprocess(try Executables.python3(), [stub], outputPath: directory.file("stub.log"))
        for _ in 0..<50 {
            if (try? runProcess("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (process, port)
    }

    /// A probe.cfg for `id` talking to the stub, with its queue in `directory`
    /// (under `queue`'s name, by default the id's); returns its path.
    static func config(_ directory: TemporaryDirectory, id: String, port: Int, command: String = "echo measured", queue: String? = nil,
                       extra: String = "", file: String? = nil) throws -> String {
        try directory.write(file ?? "\(id).cfg", """
            [Probe]
            id = \(id)
            token = t
            server = http://127.0.0.1:\(port)
            command = \(command)
            queue = \(directory.file("\(queue ?? id)/queue"))
            \(extra)
            """)
    }

    /// `governor-probe run-now` as `id`, with a queue in `directory`.
    static func runNow(_ directory: TemporaryDirectory, id: String, port: Int, command: String, extra: String = "") throws -> ProcessResult {
        try runProcess(try Executables.built("governor-probe"), ["run-now", "--config", try config(directory, id: id, port: port, command: command, extra: extra)])
    }

    static func files(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func posts(_ directory: TemporaryDirectory, probe: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: directory.file("posts.jsonl"), encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["probe"] as? String == probe else { return nil }
            return object["body"] as? [String: Any]
        }
    }

    @Test("404: the result stays queued; 400 result_unacceptable: it moves to rejected/ with the reason")
    func keepsOrRejects() async throws {
        try await offThePool { try Self.keepsOrRejectsBody() }
    }

    static func keepsOrRejectsBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }

        _ = try Self.runNow(directory, id: "gone", port: port, command: "echo measured")
        #expect(Self.files(directory.file("gone/queue")).count == 1, "a 404 must not cost the result")
        #expect(Self.files(directory.file("gone/rejected")).isEmpty)

        _ = try Self.runNow(directory, id: "bad", port: port, command: "echo measured")
        #expect(Self.files(directory.file("bad/queue")).isEmpty)
        let rejected = Self.files(directory.file("bad/rejected"))
        #expect(rejected.count == 2 && rejected.contains { $0.hasSuffix(".json") } && rejected.contains { $0.hasSuffix(".reason") }, "\(rejected)")
        let reason = try String(contentsOfFile: directory.file("bad/rejected/" + (rejected.first { $0.hasSuffix(".reason") } ?? "")), encoding: .utf8)
        #expect(reason.contains("result_unacceptable") && reason.contains("far from any schedule"), "\(reason)")
        let kept = try String(contentsOfFile: directory.file("bad/rejected/" + (rejected.first { $0.hasSuffix(".json") } ?? "")), encoding: .utf8)
        #expect(kept.contains("measured"))
    }

    @Test("a result older than queue_max_age that the governor still does not take moves to rejected/")
    func agesOut() async throws {
        try await offThePool { try Self.agesOutBody() }
    }

    static func agesOutBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        // A result queued two hours ago, as an earlier run of the probe left it.
        let old = "{\"exit_code\":0,\"finished_at\":\"2026-11-23T07:00:35Z\",\"output\":\"old\",\"run_at\":\"2026-11-23T07:00:00Z\",\"started_at\":\"2026-11-23T07:00:00Z\"}"
        let queuedAt = String(format: "%017.6f", Date().timeIntervalSince1970 - 7200)
        try directory.write("gone/queue/\(queuedAt)-0ld0ld00.json", old)

        _ = try Self.runNow(directory, id: "gone", port: port, command: "echo new", extra: "queue_max_age = 1h")
        let queued = Self.files(directory.file("gone/queue"))
        let rejected = Self.files(directory.file("gone/rejected"))
        #expect(queued.count == 1 && !queued.contains { $0.hasPrefix(queuedAt) }, "\(queued)")
        #expect(rejected.contains("\(queuedAt)-0ld0ld00.json") && rejected.contains("\(queuedAt)-0ld0ld00.reason"), "\(rejected)")
        let reason = try String(contentsOfFile: directory.file("gone/rejected/\(queuedAt)-0ld0ld00.reason"), encoding: .utf8)
        #expect(reason.contains("queue_max_age") && reason.contains("404"), "\(reason)")
    }

    @Test("413 result_too_large: the output is cut, flagged, and the result sent again until it fits")
    func cutsWhatIsTooLarge() async throws {
        try await offThePool { try Self.cutsWhatIsTooLargeBody() }
    }

    static func cutsWhatIsTooLargeBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        let result = try Self.runNow(directory, id: "big", port: port, command: "head -c 5000 /dev/zero | tr '\\0' x")
        #expect(result.status == 0, "\(result.stderr)")
        let sent = Self.posts(directory, probe: "big")
        #expect(sent.map { ($0["output"] as? String)?.utf8.count ?? -1 } == [5000, 2500, 1250, 625], "\(sent.map { ($0["output"] as? String)?.count ?? -1 })")
        #expect(sent.last?["output_truncated"] as? Bool == true)
        #expect(Self.files(directory.file("big/queue")).isEmpty)
    }

    @Test("the probe's own output limit is reported as output_truncated; run-now carries an idempotency key")
    func probeLimitAndKey() async throws {
        try await offThePool { try Self.probeLimitAndKeyBody() }
    }

    static func probeLimitAndKeyBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        _ = try Self.runNow(directory, id: "fine", port: port, command: "head -c 1100000 /dev/zero | tr '\\0' x")
        let sent = try #require(Self.posts(directory, probe: "fine").first)
        #expect((sent["output"] as? String)?.utf8.count == 1 << 20)
        #expect(sent["output_truncated"] as? Bool == true)
        #expect((sent["idempotency_key"] as? String)?.hasPrefix("run-now-") == true)
    }

    @Test("a captive portal's 200 deletes nothing: results stay queued, the probe says once what answers, and the governor gets them later")
    func captivePortal() async throws {
        try await offThePool { try Self.captivePortalBody() }
    }

    static func captivePortalBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        var logs: [String] = []
        for _ in 0..<3 {
            let result = try Self.runNow(directory, id: "portal", port: port, command: "echo measured")
            logs.append(result.stderr)
        }
        // Each run tried the oldest queued result, which was not acknowledged, and stopped there.
        #expect(Self.posts(directory, probe: "portal").count == 3)
        #expect(Self.files(directory.file("portal/queue")).count == 3, "a portal's 200 must not cost a result")
        #expect(Self.files(directory.file("portal/rejected")).isEmpty)
        for log in logs {
            let lines = log.split(separator: "\n").filter { $0.contains("something other than the governor answers") }
            #expect(lines.count == 1, "once per episode:\n\(log)")
            #expect(lines.first?.contains("text/html") == true && lines.first?.contains("Welcome to SchoolNet") == true, "\(lines)")
        }
        // JSON that acknowledges another run is not this result's acknowledgement either.
        _ = try Self.runNow(directory, id: "liar", port: port, command: "echo measured")
        #expect(Self.files(directory.file("liar/queue")).count == 1)

        // Off the portal's network, the same queue reaches the governor: all three go.
        let config = try Self.config(directory, id: "fine", port: port, command: "echo back", queue: "portal", file: "back.cfg")
        let back = try runProcess(try Executables.built("governor-probe"), ["run-now", "--config", config])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(Self.files(directory.file("portal/queue")).isEmpty)
        #expect(Self.posts(directory, probe: "fine").count == 4)
    }

    @Test("a portal's page as the lease changes nothing the probe holds")
    func portalLease() async throws {
        try await offThePool { try Self.portalLeaseBody() }
    }

    static func portalLeaseBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        let later = Int64(Date().timeIntervalSince1970) + 7200
        let held = "{\"lease_until\":\(later),\"runs\":[\(later)]}"
        try directory.write("portal/lease.json", held)
        let config = try Self.config(directory, id: "portal", port: port, file: "lease.cfg")
        let probe = try Subprocess(try Executables.built("governor-probe"), ["run", "--config", config], outputPath: directory.file("probe.log"))
        Thread.sleep(forTimeInterval: 3)
        _ = probe.stop()
        let log = (try? String(contentsOfFile: directory.file("probe.log"), encoding: .utf8)) ?? ""
        #expect(try String(contentsOfFile: directory.file("portal/lease.json"), encoding: .utf8) == held, "\(log)")
        #expect(log.contains("something other than the governor answers"), "\(log)")
    }

    @Test("run times no schedule can have are refused and logged: 1e30, 500 days ahead; the sane run beside them runs")
    func impossibleRunTimes() async throws {
        try await offThePool { try Self.impossibleRunTimesBody() }
    }

    static func impossibleRunTimesBody() throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        func config(_ id: String, lease: String) throws -> String {
            try Self.config(directory, id: id, port: port, extra: "lease = \(lease)")
        }
        let huge = try runProcess(try Executables.built("governor-probe"), ["next", "--config", try config("huge", lease: "0")])
        #expect(huge.status != 0)
        #expect(huge.stderr.contains("not a run time"), "\(huge.stderr)")

        let probe = try Subprocess(try Executables.built("governor-probe"), ["run", "--config", try config("far", lease: "1h")],
                                   outputPath: directory.file("far.log"))
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && Self.posts(directory, probe: "far").isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        _ = probe.stop()
        let log = (try? String(contentsOfFile: directory.file("far.log"), encoding: .utf8)) ?? ""
        #expect(Self.posts(directory, probe: "far").count == 1, "\(log)")
        let refusals = log.split(separator: "\n").filter { $0.contains("refusing the run time") && $0.contains("beyond the governor's look-ahead") }
        #expect(refusals.count == 1, "logged once, not at every ask:\n\(log)")
        let lease = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("far/lease.json")))) as? [String: Any])
        let runs = (lease["runs"] as? [NSNumber])?.map(\.doubleValue) ?? []
        #expect(runs.count == 1 && runs.allSatisfy { $0 < Date().timeIntervalSince1970 + 86_400 }, "\(lease)")
        #expect(FileManager.default.fileExists(atPath: directory.file("far/last_run")))
    }

    /// A probe whose next run was an hour (or days) away slept until it, so a school
    /// reopened by a reload was not heard of: it now asks again within ask_interval.
    @Test("a probe waiting for a run an hour away asks again within ask_interval, with and without a lease", arguments: ["1h", "0"])
    func asksAgainWhileWaiting(lease: String) async throws {
        try await offThePool { try Self.asksAgainWhileWaitingBody(lease: lease) }
    }

    static func asksAgainWhileWaitingBody(lease: String) throws {
        let directory = try TemporaryDirectory("governor-probe-delivery")
        defer { directory.remove() }
        let (stub, port) = try Self.startStub(directory)
        defer { stub.stop() }
        let config = try Self.config(directory, id: "waiting", port: port, extra: "lease = \(lease)\nask_interval = 1s")
        let probe = try Subprocess(try Executables.built("governor-probe"), ["run", "--config", config], outputPath: directory.file("waiting.log"))
        Thread.sleep(forTimeInterval: 4.5)
        _ = probe.stop()
        let gets = ((try? String(contentsOfFile: directory.file("gets.jsonl"), encoding: .utf8)) ?? "").split(separator: "\n")
        // One ask at the start, then one a second: at least four in 4.5 s, where it used to be one.
        #expect((4...8).contains(gets.count), "\(gets.count) asks: \((try? String(contentsOfFile: directory.file("waiting.log"), encoding: .utf8)) ?? "")")
    }
}
