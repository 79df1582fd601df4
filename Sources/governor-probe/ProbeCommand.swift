import ArgumentParser
import Dispatch
import Foundation
import GovernorCore
import GovernorLogging
import Logging
import ProbeClient

/// `governor-probe`: the probe side of pull mode.
@main
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "governor-probe",
        abstract: "Lease this probe's run times from the governor, run each test at its time, report it, repeat.",
        version: GovernorVersion.current,
        subcommands: [RunLoop.self, Next.self, RunNow.self, Check.self],
        defaultSubcommand: RunLoop.self
    )
}

/// Options every subcommand shares; flags override the file.
struct ProbeOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The probe's configuration file (default: $GOVERNOR_PROBE_CONFIG, else /etc/governor-probe/probe.cfg).", valueName: "path"))
    var config: String?

    @Option(help: "The probe's id (overrides [Probe] id).")
    var id: String?

    @Option(help: ArgumentHelp("The governor's URL (overrides [Probe] server).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("A file holding the probe's token (overrides [Probe] token).", valueName: "path"))
    var tokenFile: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The test command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    /// The settings, or exit 78 (`EX_CONFIG`) with the problem logged at error priority:
    /// the unit's `RestartPreventExitStatus=78` keeps systemd from restarting a probe
    /// whose file cannot work.
    func settings() throws -> ProbeSettings {
        let commandLine = command.isEmpty ? nil : command.map(Self.shellWord).joined(separator: " ")
        do {
            return try ProbeSettings.load(path: config ?? Self.environmentConfig, overrides: .init(id: id, server: server, tokenFile: tokenFile, command: commandLine))
        } catch {
            Self.logger().error("\(error.message)")
            throw ExitCode(Self.configurationError)
        }
    }

    /// `GOVERNOR_PROBE_CONFIG`, as `governor` reads `GOVERNOR_CONFIG`: the file for a
    /// probe started without `--config` (a container, a wrapper that sets the clock).
    static var environmentConfig: String? {
        ProcessInfo.processInfo.environment["GOVERNOR_PROBE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// sysexits' `EX_CONFIG`.
    static let configurationError: Int32 = 78

    static func shellWord(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+{}".contains($0) } ? word : "'" + word.replacing("'", with: "'\\''") + "'"
    }

    static func logger() -> Logger {
        Logger(label: "governor-probe") { JournalLogHandler(label: $0, level: .info) }
    }
}

struct RunLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the probe loop until SIGTERM (the default).")

    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let loop = try ProbeLoop(settings: try options.settings(), logger: ProbeOptions.logger())
        // SIGTERM/SIGINT: finish (or time out) the running test, deliver or queue it, exit.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { loop.stop() }
            source.resume()
            return source
        }
        await loop.run()
        sources.forEach { $0.cancel() }
    }
}

struct Next: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "next", abstract: "Print the next run time and the clock offset, then exit.")

    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let loop = try ProbeLoop(settings: try options.settings(), logger: ProbeOptions.logger())
        do {
            let next = try await loop.fetchNext()
            let offset = next.serverTime - (next.sentAt + next.receivedAt) / 2
            print("next run: \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: next.runAt))) (in \(Int(next.runAt - Date().timeIntervalSince1970)) s)")
            print(String(format: "clock: this probe is %.1f ms %@ the governor (round trip %.1f ms)",
                         abs(offset) * 1000, offset > 0 ? "behind" : "ahead of", (next.receivedAt - next.sentAt) * 1000))
        } catch {
            FileHandle.standardError.write(Data("governor-probe: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct RunNow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run-now", abstract: "Run the test once now and report it.")

    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let loop = try ProbeLoop(settings: try options.settings(), logger: ProbeOptions.logger())
        guard let outcome = await loop.runAndReport(runAt: nil) else { throw ExitCode(1) }
        print(outcome.output, terminator: "")
        if outcome.exitCode != 0 { throw ExitCode(Int32(outcome.exitCode)) }
    }
}

/// `governor-probe check`: whether the settings are complete and valid, without
/// contacting the governor. The unit runs it as `ExecCondition=`, so a freshly
/// installed probe whose file has no id or server yet stays stopped (the reason in
/// the journal at error priority) instead of failing and restarting. A missing token
/// is only a warning: a governor with `require_tokens = no` takes probes without one.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the probe's settings (id, token, server, command) without contacting the governor; exit 1 when incomplete or invalid."
    )

    @OptionGroup var options: ProbeOptions

    func run() async throws {
        let settings: ProbeSettings
        do {
            settings = try options.settings()
        } catch {
            throw ExitCode(1)
        }
        if settings.token == nil {
            // Valid only against a governor with `require_tokens = no`.
            ProbeOptions.logger().warning("no token: set 'token' or 'token_file' in [Probe] ('governor token \(settings.id)' on the governor makes one), unless the governor has require_tokens = no")
        }
        print("probe \(settings.id): server \(settings.server), command \(settings.command), lease \(settings.leaseSeconds) s, queue \(settings.queueDirectory)")
    }
}
