import ArgumentParser
import Foundation
import GovernorCore
import GovernorWire

/// `governor silence add|list|remove`: quiet times for the built-in alerts, through a
/// running governor's `/v1/silences` (reached as `governor status` reaches it).
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Silence the alerts of a school, a probe or the schools with a label for planned work; list and remove silences.",
        discussion: """
            While a silence is in force, misses are judged and shown (flagged 'silenced'), but neither an email \
            nor an Alertmanager post goes out; when it ends, one email says what is still DOWN.
            """,
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silence a school, a probe or every school with a label until a time.")

        @OptionGroup var connection: GovernorConnection

        @Option(help: ArgumentHelp("The school to silence.", valueName: "name"))
        var school: String?

        @Option(help: ArgumentHelp("The probe to silence.", valueName: "id"))
        var probe: String?

        @Option(help: ArgumentHelp("Silence every school with this label, such as district=north-7.", valueName: "key=value"))
        var label: String?

        @Option(help: ArgumentHelp("When it ends, in RFC 3339 (2026-12-08T18:00:00Z or with an offset).", valueName: "time"))
        var until: String?

        @Option(name: .customLong("for"), help: ArgumentHelp("How long it lasts, such as 90m, 4h or 2d.", valueName: "duration"))
        var duration: String?

        @Option(help: ArgumentHelp("Why (logged, shown, and in the email when it ends).", valueName: "text"))
        var reason: String

        func validate() throws {
            guard [school, probe, label].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --school, --probe and --label") }
            guard (until == nil) != (duration == nil) else { throw ValidationError("give exactly one of --until and --for") }
        }

        func run() async throws {
            let request = SilenceRequest(school: school, probe: probe, label: label, until: until, duration: duration, reason: reason,
                                         author: SilenceCommand.author)
            let body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
            let answer = try await connection.send(.POST, "/v1/silences", body: body, command: "governor silence add")
            guard answer.status == .created, let created = try? JSONDecoder().decode(SilenceCreated.self, from: Data(answer.text.utf8)) else {
                StandardError.print("governor silence add: \(SilenceCommand.message(of: answer))")
                throw ExitCode(1)
            }
            print("silence \(created.silence.id): \(SilenceCommand.subject(of: created.silence)) until \(RFC3339.format(created.silence.endsAt.unixTime))")
            for note in created.notes { print("note: \(note)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The silences in force and to come, then those ended in the last day.")

        @OptionGroup var connection: GovernorConnection

        @Flag(help: "Print the list as JSON.")
        var json = false

        func run() async throws {
            let answer = try await connection.send(.GET, "/v1/silences", command: "governor silence list")
            guard answer.status == .ok, let list = try? JSONDecoder().decode(SilenceList.self, from: Data(answer.text.utf8)) else {
                StandardError.print("governor silence list: \(SilenceCommand.message(of: answer))")
                throw ExitCode(1)
            }
            if json {
                try JSONOutput.print(list)
                return
            }
            guard !list.silences.isEmpty else {
                print("no silences")
                return
            }
            for silence in list.silences {
                let state = silence.active ? "in force" : silence.removedAt.map { "removed \(RFC3339.format($0.unixTime))" } ?? "ended"
                print("\(silence.id)  \(SilenceCommand.subject(of: silence))  until \(RFC3339.format(silence.endsAt.unixTime))  \(state)  "
                    + "by \(silence.author): \(silence.reason)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")

        @OptionGroup var connection: GovernorConnection

        @Argument(help: "The silence's id, as 'governor silence list' shows it.")
        var id: Int64

        func run() async throws {
            let answer = try await connection.send(.DELETE, "/v1/silences/\(id)", headers: [("X-Governor-Author", SilenceCommand.author)],
                                                   command: "governor silence remove")
            guard answer.status == .ok else {
                StandardError.print("governor silence remove: \(SilenceCommand.message(of: answer))")
                throw ExitCode(1)
            }
            print("silence \(id) removed")
        }
    }

    /// `ops@host`: who runs the command, for the governor's log.
    static var author: String {
        let user = Environment.value(of: "SUDO_USER") ?? Environment.value(of: "USER") ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    static func subject(of silence: SilenceView) -> String {
        if let school = silence.school { return "school \(school)" }
        if let probe = silence.probe { return "probe \(probe)" }
        return "label \(silence.label ?? "")"
    }

    /// The governor's own message from an error answer, else the status.
    static func message(of answer: GovernorConnection.Answer) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any], let message = object["message"] as? String {
            return message
        }
        return "the governor answered \(answer.status.code): \(answer.text.prefix(300))"
    }
}
