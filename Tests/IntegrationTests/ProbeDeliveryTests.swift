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
    /// result_too_large while the output is over 1000 bytes. Each POST body it is sent
    /// is appended to `posts.jsonl`.
    static func startStub(_ directory: TemporaryDirectory) throws -> (Subprocess, Int) {
        let port = try TestSSHServer.freePort()
        let posts = directory.file("posts.jsonl")
        let stub = try directory.write("stub.py", """
            import http.server, json
            class H(http.server.BaseHTTPRequestHandler):
                def answer(self, status, body):
                    data = json.dumps(body).encode()
                    self.send_response(status); self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
                def do_POST(self):
                    probe = self.path.split("/")[3]
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    with open("\(posts)", "a") as f: f.write(json.dumps({"probe": probe, "body": body}) + "\\n")
                    if probe == "gone": return self.answer(404, {"error": "not_found", "message": "no probe is configured with the id 'gone'"})
                    if probe == "bad": return self.answer(400, {"error": "result_unacceptable", "message": "'run_at' is far from any schedule"})
                    if probe == "big" and len(body["output"].encode()) > 1000:
                        return self.answer(413, {"error": "result_too_large", "message": "cut its output and send it again"})
                    self.answer(201, {"id": 1, "output_truncated": bool(body.get("output_truncated"))})
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

    /// `governor-probe run-now` as `id`, with a queue in `directory`.
    static func runNow(_ directory: TemporaryDirectory, id: String, port: Int, command: String, extra: String = "") throws -> ProcessResult {
        let config = try directory.write("\(id).cfg", """
            [Probe]
            id = \(id)
            token = t
            server = http://127.0.0.1:\(port)
            command = \(command)
            queue = \(directory.file("\(id)/queue"))
            \(extra)
            """)
        return try runProcess(try Executables.built("governor-probe"), ["run-now", "--config", config])
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
}
