import Foundation
import GovernorTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP edge of a real `governor serve`, spoken to byte by byte over a socket,
/// as a broken proxy or a hostile client would.
@Suite("HTTP edge under abuse", .serialized, .timeLimit(.minutes(2)))
struct HTTPEdgeTests {
    static func startGovernor(_ directory: TemporaryDirectory) throws -> ServerProcess {
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nstate = state.sqlite\n")
        try directory.write("schools/s.cfg", "[Timing]\nboundaries = 0000 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = p1\n[Probe p1]\ntoken = p1-token\n")
        return try ServerProcess(config: directory.file("governor.cfg"), logPath: directory.file("governor.log"))
    }

    /// Sends `bytes` on a new connection and returns what came back until the server
    /// closed or `timeout` passed.
    static func exchange(port: Int, _ bytes: String, timeout: Double = 5) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect: \(errno)") }
        var timeval = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test("a malformed chunk size is a 400, not a 500 with an error in the log")
    func malformedChunk() throws {
        let directory = try TemporaryDirectory("governor-edge")
        defer { directory.remove() }
        let server = try Self.startGovernor(directory)
        defer { server.stop() }
        let answer = try Self.exchange(port: server.port, """
            POST /v1/probes/p1/results HTTP/1.1\r
            Host: 127.0.0.1\r
            Authorization: Bearer p1-token\r
            Content-Type: application/json\r
            Transfer-Encoding: chunked\r
            \r
            zz\r
            {}\r
            0\r
            \r

            """)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(300))")
        #expect(!server.log.contains("request failed"), "\(server.log)")
    }
}
