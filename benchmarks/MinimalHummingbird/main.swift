// The anchor of benchmarks/fleet-scale.sh: a Hummingbird 2 app with one route and no
// middleware, answering `GET /v1/probes/{id}/next` with a constant body the size of
// the governor's answer. Whatever the governor does beyond this is its own cost.
//
//     minimal-hummingbird PORT     (0: any free port; prints "serving on 127.0.0.1:PORT")
import Hummingbird
import NIOCore

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 0
let body = ByteBuffer(string: #"{"probe":"bench-0","run_at":"2026-12-02T12:34:56Z","window_start":"2026-12-02T12:00:00Z","window_end":"2026-12-02T18:00:00Z","server_time":"2026-12-02T12:00:00.000Z"}"#)
let router = Router()
router.get("/v1/probes/:id/next") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in print("serving on 127.0.0.1:\(channel.localAddress?.port ?? port)") })
try await app.runService()
