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

    @OptionGroup var connection: GovernorConnection

    @Flag(help: "Print the governor's report as JSON instead of tables.")
    var json = false

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
        let base = try connection.baseURL()
        var report: StatusReport?
        var cursor: String?
        for _ in 0..<Self.maxPages {
            let page = try await fetch(cursor: cursor)
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
    private func fetch(cursor: String?) async throws -> StatusReport {
        var components = URLComponents()
        var items = [URLQueryItem(name: "limit", value: "\(Self.pageSize)")]
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        if attention { items.append(URLQueryItem(name: "attention", value: "true")) }
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        if let school { items.append(URLQueryItem(name: "school", value: school)) }
        for label in label { items.append(URLQueryItem(name: "label", value: label)) }
        components.queryItems = items
        // '+' is a space in a query string; URLComponents leaves it as it is.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        let answer = try await connection.send(.GET, "/v1/status?" + query, command: "governor status")
        guard answer.status == .ok else {
            StandardError.print("governor status: \(try connection.baseURL())/v1/status answered \(answer.status.code): \(answer.text.prefix(500))")
            throw ExitCode(1)
        }
        do {
            return try JSONDecoder().decode(StatusReport.self, from: Data(answer.text.utf8))
        } catch {
            StandardError.print("governor status: the answer of \(try connection.baseURL())/v1/status is not a status report (is it a governor of this version?): \(error)")
            throw ExitCode(1)
        }
    }
}
