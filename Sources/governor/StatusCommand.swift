import ArgumentParser
import AsyncHTTPClient
import Foundation
import GovernorCore
import GovernorViews
import GovernorWire
import NIOCore
import NIOHTTP1

/// `governor status`: the dashboard's counts and school tables, in the terminal,
/// from a running governor's `GET /v1/status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running governor's schools and probes: UP/DOWN, last contact, misses, last result, next run.",
        discussion: """
            Without --server, asks the governor the configuration's 'listen' names (a wildcard address \
            is asked on 127.0.0.1). The operator token, when the governor requires one, comes from \
            --token-file or $GOVERNOR_ADMIN_TOKEN.
            """
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(help: ArgumentHelp("The governor's base URL, such as http://127.0.0.1:8080.", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("A file holding the operator token (admin_token_sha256 in [Governor]).", valueName: "path"))
    var tokenFile: String?

    @Flag(help: "Print the governor's report as JSON instead of tables.")
    var json = false

    @Option(help: ArgumentHelp("Seconds to wait for the answer.", valueName: "seconds"))
    var timeout: Int = 10

    @Flag(help: "Only the probes that need attention: DOWN, missing runs, a failed latest result, a clock off by more than 1 s.")
    var attention = false

    @Option(help: ArgumentHelp("Only probes in this state: UP, DOWN or NEVER_SEEN.", valueName: "state"))
    var state: String?

    @Option(help: ArgumentHelp("Only schools whose name contains this.", valueName: "text"))
    var school: String?

    @Option(help: ArgumentHelp("Only schools with this label, such as isp=acme-telecom (repeat it: all must match).", valueName: "key=value"))
    var label: [String] = []

    /// Schools per request: the report is read a page at a time, whatever the fleet's size.
    static let pageSize = 500
    /// Enough pages for 5 million schools: a bound on the loop, never reached.
    static let maxPages = 10_000

    func run() async throws {
        let base = try baseURL()
        let token = try operatorToken()
        var report: StatusReport?
        var cursor: String?
        for _ in 0..<Self.maxPages {
            let page = try await fetch(base: base, token: token, cursor: cursor)
            if report == nil { report = page } else { report?.schools += page.schools }
            cursor = page.page?.nextCursor
            if cursor == nil { break }
        }
        guard var report else { throw ExitCode(1) }
        report.page?.nextCursor = nil
        if json {
            try JSONOutput.print(report)
        } else {
            print(StatusTable.render(report, server: base), terminator: "")
        }
    }

    /// One page of `GET /v1/status`.
    private func fetch(base: String, token: String?, cursor: String?) async throws -> StatusReport {
        var components = URLComponents(string: base + "/v1/status")
        var items = [URLQueryItem(name: "limit", value: "\(Self.pageSize)")]
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        if attention { items.append(URLQueryItem(name: "attention", value: "true")) }
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        if let school { items.append(URLQueryItem(name: "school", value: school)) }
        for label in label { items.append(URLQueryItem(name: "label", value: label)) }
        components?.queryItems = items
        // '+' is a space in a query string; URLComponents leaves it as it is.
        let query = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = query
        guard let url = components?.string else { throw ValidationError("--server '\(base)' is not a usable URL") }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }

        let body: ByteBuffer
        let status: HTTPResponseStatus
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(timeout)))
            status = response.status
            body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            StandardError.print("governor status: cannot reach the governor at \(base): \(error) — is 'governor serve' running there?")
            throw ExitCode(1)
        }
        let text = String(buffer: body)
        guard status == .ok else {
            if status == .unauthorized {
                StandardError.print("governor status: the governor at \(base) needs the operator token; pass --token-file PATH or set GOVERNOR_ADMIN_TOKEN")
            } else {
                StandardError.print("governor status: \(base)/v1/status answered \(status.code): \(text.prefix(500))")
            }
            throw ExitCode(1)
        }
        do {
            return try JSONDecoder().decode(StatusReport.self, from: Data(text.utf8))
        } catch {
            StandardError.print("governor status: the answer of \(base)/v1/status is not a status report (is it a governor of this version?): \(error)")
            throw ExitCode(1)
        }
    }

    /// --server, else the configuration's listen address.
    private func baseURL() throws -> String {
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

    private func operatorToken() throws -> String? {
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
