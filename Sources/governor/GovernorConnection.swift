import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// How a command reaches a running governor (`governor status`, `governor silence`):
/// `--server`, else the configuration's `listen` (a wildcard address is asked on
/// 127.0.0.1); the operator token from `--token-file` or `$GOVERNOR_ADMIN_TOKEN`.
struct GovernorConnection: ParsableArguments {
    @OptionGroup var configOptions: ConfigOptions

    @Option(help: ArgumentHelp("The governor's base URL, such as http://127.0.0.1:8080.", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("A file holding the operator token (admin_token_sha256 in [Governor]).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Seconds to wait for the answer.", valueName: "seconds"))
    var timeout: Int = 30

    /// An answer: its status and body.
    struct Answer {
        var status: HTTPResponseStatus
        var text: String
    }

    /// Sends one request; an unreachable governor or a 401 is an error that says what to do.
    /// - Parameter command: the command's name, for its messages.
    func send(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [], command: String) async throws -> Answer {
        let base = try baseURL()
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token = try operatorToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let answer: Answer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout)))
            answer = Answer(status: response.status, text: String(buffer: try await response.body.collect(upTo: 64 * 1024 * 1024)))
        } catch {
            StandardError.print("\(command): cannot reach the governor at \(base): \(error) — is 'governor serve' running there?")
            throw ExitCode(1)
        }
        if answer.status == .unauthorized {
            StandardError.print("\(command): the governor at \(base) needs the operator token; pass --token-file PATH or set GOVERNOR_ADMIN_TOKEN")
            throw ExitCode(1)
        }
        return answer
    }

    /// --server, else the configuration's listen address.
    func baseURL() throws -> String {
        if let server {
            guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--server '\(server)' is not an http:// or https:// URL")
            }
            return server.hasSuffix("/") ? String(server.dropLast()) : server
        }
        let listen = try configOptions.load().governor.listen
        let host = ["0.0.0.0", "::", ""].contains(listen.host) ? "127.0.0.1" : listen.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(listen.port)"
    }

    func operatorToken() throws -> String? {
        if let tokenFile {
            do {
                let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !token.isEmpty else { throw ValidationError("--token-file \(tokenFile) is empty") }
                return token
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("cannot read --token-file \(tokenFile): \(error.localizedDescription)")
            }
        }
        return Environment.value(of: "GOVERNOR_ADMIN_TOKEN")
    }
}
