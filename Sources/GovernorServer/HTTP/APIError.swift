import Foundation
import GovernorStore
import Hummingbird
import HTTPTypes
import NIOCore
import NIOHTTP1

/// An error the API reports as `{"error": CODE, "message": TEXT}` with its status.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }
    static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer realm=\"governor\""])
    }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }

    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = "{\"error\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))}\n"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// The routes of the API, with their methods: a request for a known path with
/// another method is answered 405 with an `Allow` header, not 404.
enum APIRoutes {
    static let table: [(pattern: String, methods: [HTTPRequest.Method])] = [
        ("/", [.get]),
        ("/schools/:name", [.get]),
        ("/metrics", [.get]),
        ("/healthz", [.get]),
        ("/v1/status", [.get]),
        ("/v1/probes/:id/next", [.get]),
        ("/v1/probes/:id/runs", [.get]),
        ("/v1/probes/:id/results", [.get, .post]),
        ("/v1/probes/:id", [.get]),
        ("/v1/schools", [.get]),
        ("/v1/schools/:name/schedule", [.get]),
        ("/openapi.json", [.get]),
    ]

    /// The methods `path` is served for, or nil when no route has that path.
    static func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return table.first { route in
            let pattern = route.pattern.split(separator: "/")
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }?.methods
    }
}

/// Maps every error to a JSON answer in one place: domain errors to their status,
/// framework errors to theirs, anything else to a logged 500 without details.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where an outage of the state is logged once per episode.
    let outages: StateOutageLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch var error as APIError {
            // Refused before its body was read (a wrong token, say): close rather than read it.
            if Self.hasBody(request) { error.headers[.connection] = "close" }
            return error.response()
        } catch let error as HTTPError {
            if error.status == .notFound, let methods = APIRoutes.methods(for: request.uri.path), !methods.contains(request.method) {
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                return APIError(status: .methodNotAllowed, code: "method_not_allowed",
                                message: "\(request.method) is not allowed on \(request.uri.path); use \(allowed)",
                                headers: [.allow: allowed]).response()
            }
            let code = error.status == .notFound ? "not_found" : error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            let message = error.status == .notFound ? "no such endpoint: \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return APIError(status: error.status, code: code, message: message, headers: error.headers).response()
        } catch is NIOTooManyBytesError {
            return APIError(status: .contentTooLarge, code: "too_large", message: "the request body is larger than this endpoint accepts").response()
        } catch let error as DecodingError {
            return APIError.badRequest("the body is not the JSON this endpoint expects: \(Self.describe(error))").response()
        } catch let error as HTTPParserError {
            // The client's bytes are not HTTP (a malformed chunk size, say): its fault, not ours.
            var answer = APIError.badRequest("the request is not valid HTTP/1.1: \(error)")
            answer.headers[.connection] = "close"
            return answer.response()
        } catch {
            if outages.failed("request failed: \(request.method) \(request.uri.path)", error, logger: context.logger) != nil {
                // The database is away or its disk full: say so, and when to ask again, rather than guess.
                return APIError(status: .serviceUnavailable, code: "state_unavailable", message: "the governor's state cannot take this now; try again shortly",
                                headers: [.retryAfter: "5"]).response()
            }
            return APIError(status: .internalServerError, code: "internal", message: "the governor could not answer; its log has the details").response()
        }
    }

    /// Whether the request announced a body, which an early answer leaves unread.
    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "malformed JSON" : "field '\(path)': \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// JSON text for the few hand-written bodies (errors, the hot `next` answer).
enum JSONText {
    static func quoted(_ text: String) -> String {
        // Ids and most names need no escaping: skip the per-character walk.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
