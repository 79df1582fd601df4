import Foundation

/// A small HTTP server on 127.0.0.1 for one test, standing in for a dead man's
/// switch (healthchecks.io): Python's http.server, which answers every GET and
/// POST with 200 and appends each request (method, path, body) to a file as a JSON
/// line. Stopped by its PID.
public final class TestHTTPReceiver: @unchecked Sendable {
    public let port: Int
    private let directory: TemporaryDirectory
    private let requestsPath: String
    private var process: Subprocess?

    public struct Request: Sendable, Equatable, Decodable {
        public var method: String
        public var path: String
        public var body: String

        public init(method: String, path: String, body: String) {
            self.method = method
            self.path = path
            self.body = body
        }
    }

    public init() throws {
        directory = try TemporaryDirectory("governor-http-receiver")
        requestsPath = directory.file("requests.jsonl")
        port = try TestSSHServer.freePort()
        let script = """
            import http.server, json, sys
            class Receiver(http.server.BaseHTTPRequestHandler):
                def record(self):
                    length = int(self.headers.get('Content-Length') or 0)
                    body = self.rfile.read(length).decode('utf-8', 'replace') if length else ''
                    with open(sys.argv[2], 'a') as out:
                        out.write(json.dumps({'method': self.command, 'path': self.path, 'body': body}) + '\\n')
                    self.send_response(200)
                    self.send_header('Content-Length', '2')
                    self.end_headers()
                    self.wfile.write(b'OK')
                do_GET = record
                do_POST = record
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Receiver).serve_forever()
            """
        let process = try Subprocess(try Executables.python3(), ["-c", script, String(port), requestsPath], outputPath: directory.file("receiver.log"))
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if TestSMTPServer.accepts(port) { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: directory.file("receiver.log"), encoding: .utf8)) ?? ""
        remove()
        throw TestFailure("the HTTP receiver did not start on 127.0.0.1:\(port):\n\(log)")
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far, oldest first.
    public func requests() -> [Request] {
        let text = (try? String(contentsOfFile: requestsPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    public func remove() {
        process?.stop(timeout: 5)
        process = nil
        directory.remove()
    }
}
