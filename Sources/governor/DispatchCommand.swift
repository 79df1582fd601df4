import ArgumentParser
import Foundation
import GovernorCore
import GovernorServer

/// `governor dispatch ADDRESS`: run one push probe's test now, the way the server would.
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Run one push probe's test now over SSH and print what happened.",
        discussion: """
            Uses the probe's [SSH] and [Probe ADDRESS] settings exactly as 'governor serve' does, \
            so it checks the SSH set-up (key, known_hosts, command) before the first window. \
            Nothing is stored. Exits 0 when the test ran and exited 0, 1 otherwise.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: ArgumentHelp("The probe's address as listed under [Probes] addresses.", valueName: "address"))
    var address: String

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() async throws {
        let configuration = try options.load()
        guard let school = configuration.schools.first(where: { $0.probes.contains { $0.name == address } }),
              let probe = school.probes.first(where: { $0.name == address }) else {
            let known = configuration.schools.flatMap { $0.probes.filter { $0.mode == .push }.map(\.name) }
            StandardError.print("no push probe '\(address)' in \(options.config) or its schools"
                + (known.isEmpty ? " (none is configured)" : "; configured: \(known.joined(separator: ", "))"))
            throw ExitCode(1)
        }
        let target: PushTarget
        do {
            target = try PushTarget.resolve(probe, of: school, governor: configuration.governor)
        } catch {
            StandardError.print(error.message)
            throw ExitCode(1)
        }
        let outcome = await PushRunner.run(target, runAt: nil, startAt: nil, outputLimit: configuration.governor.maxOutputBytes)
        let report = DispatchReport(outcome)
        if json {
            try JSONOutput.print(report)
        } else {
            report.printText()
        }
        if outcome.failure != nil || report.exitStatus != 0 { throw ExitCode(1) }
    }
}

/// The outcome of `governor dispatch`, for people and for `--json`.
struct DispatchReport: Encodable {
    var probe: String
    var school: String
    var endpoint: String
    var command: String
    var connectMs: Int?
    var exitStatus: Int?
    var failure: String?
    var stdout: String
    var stderr: String
    var durationMs: Int?

    enum CodingKeys: String, CodingKey {
        case probe, school, endpoint, command, failure, stdout, stderr
        case connectMs = "connect_ms"
        case exitStatus = "exit_status"
        case durationMs = "duration_ms"
    }

    init(_ outcome: PushOutcome) {
        probe = outcome.target.probe
        school = outcome.target.school
        endpoint = "\(outcome.target.user)@\(outcome.target.host):\(outcome.target.port)"
        command = outcome.command
        connectMs = outcome.connectedAt.map { Int((($0 - outcome.connectStartedAt) * 1000).rounded()) }
        failure = outcome.failure
        switch outcome.result {
        case .success(let run):
            exitStatus = run.exitStatus
            stdout = String(decoding: run.stdout, as: UTF8.self)
            stderr = String(decoding: run.stderr, as: UTF8.self)
            durationMs = Int(((run.finishedAt - run.startedAt) * 1000).rounded())
        case .failure:
            stdout = ""
            stderr = ""
        }
    }

    func printText() {
        print("probe \(probe) (school \(school)) at \(endpoint)")
        if let connectMs { print("connected and authenticated in \(connectMs) ms") }
        if !stdout.isEmpty { print("--- stdout ---\n" + stdout, terminator: stdout.hasSuffix("\n") ? "" : "\n") }
        if !stderr.isEmpty { print("--- stderr ---\n" + stderr, terminator: stderr.hasSuffix("\n") ? "" : "\n") }
        if let failure {
            print("failed: \(failure)")
        } else if let exitStatus, let durationMs {
            print("exit status \(exitStatus) after \(durationMs) ms")
        }
    }
}
