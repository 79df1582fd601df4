import CompressNIO
import HTTPTypes
import Hummingbird
import NIOCore

/// Compresses pages, JSON and `/metrics` with gzip for clients that accept it.
///
/// The operator's views are text that shrinks five- to tenfold, read over whatever
/// link an operator has. A probe's `/next` answer is a few hundred bytes and goes out
/// as it is: below ``minimumSize`` compression costs more than it saves.
struct ResponseCompressionMiddleware<Context: RequestContext>: RouterMiddleware {
    static var minimumSize: Int { 1024 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // Read in place: most requests (a probe's) carry no Accept-Encoding at all.
        guard request.headers.contains(where: { $0.name == .acceptEncoding }),
              Self.acceptsGzip(request.headers[values: .acceptEncoding]), Self.isCompressible(response) else { return response }
        let collector = BodyCollector()
        try await response.body.write(collector)
        var body = collector.buffer
        response.headers[values: .vary].append("Accept-Encoding")
        guard body.readableBytes >= Self.minimumSize else {
            response.body = ResponseBody(byteBuffer: body)
            return response
        }
        let compressed = try body.compress(with: .gzip())
        response.headers[.contentEncoding] = "gzip"
        response.headers[.contentLength] = nil
        response.body = ResponseBody(byteBuffer: compressed)
        return response
    }

    /// Text the governor renders, not already encoded, with a body to compress.
    static func isCompressible(_ response: Response) -> Bool {
        guard response.headers[.contentEncoding] == nil, response.status != .noContent, response.status != .notModified,
              let type = response.headers[.contentType]?.lowercased() else { return false }
        // A CSV export is streamed a page at a time; compressing it would gather it whole first.
        return (type.hasPrefix("text/") && !type.hasPrefix("text/csv")) || type.hasPrefix("application/json")
    }

    /// Whether an `Accept-Encoding` header list names gzip (or `*`) without `q=0`.
    static func acceptsGzip(_ values: [String]) -> Bool {
        for coding in values.flatMap({ $0.split(separator: ",") }) {
            let parts = coding.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let name = parts.first, name == "gzip" || name == "x-gzip" || name == "*" else { continue }
            let refused = parts.dropFirst().contains { parameter in
                parameter.hasPrefix("q=") && (Double(parameter.dropFirst(2)) ?? 1) == 0
            }
            if !refused { return true }
        }
        return false
    }
}

/// Gathers a response body's buffers into one.
private struct BodyCollector: ResponseBodyWriter {
    private final class Storage {
        var buffer = ByteBuffer()
    }

    private let storage = Storage()

    var buffer: ByteBuffer { storage.buffer }

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        storage.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
