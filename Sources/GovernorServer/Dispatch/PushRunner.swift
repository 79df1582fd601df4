import Foundation
public import GovernorCore
public import GovernorSSH

/// What one push dispatch produced: the command's result, or why it did not run.
public struct PushOutcome: Sendable {
    public var target: PushTarget
    /// The command line as sent (placeholders expanded).
    public var command: String
    public var result: Result<SSHCommandResult, SSHError>
    /// Wall-clock seconds when connecting began and when the session was authenticated.
    public var connectStartedAt: Double
    public var connectedAt: Double?

    /// Whether the probe was reached and ran the test: to its end (any exit status or
    /// signal), or until the governor stopped it at its `timeout`. Only this counts as
    /// a contact for the missed-run alerts; the run is then done or failed, never
    /// missed (see ``RunJudgement``).
    public var reachedProbe: Bool {
        if case .success(let run) = result { return run.timedOut || run.exitStatus != nil || run.exitSignal != nil }
        return false
    }

    /// A short reason for a run that did not end normally; nil when it did (whatever its status).
    public var failure: String? {
        switch result {
        case .failure(let error):
            return RunFailure.text(error.kind.rawValue, error.message)
        case .success(let run):
            if run.timedOut { return RunFailure.text(RunFailure.timeout, "the test ran longer than \(target.timeoutSeconds) s and was stopped") }
            if let signal = run.exitSignal { return RunFailure.text(RunFailure.signal, "the test was killed by SIG\(signal)") }
            return nil
        }
    }

    /// stdout, then stderr under a marker line when there is any.
    public var output: String {
        guard case .success(let run) = result else { return "" }
        var text = String(decoding: run.stdout, as: UTF8.self)
        if !run.stderr.isEmpty {
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += "--- stderr ---\n" + String(decoding: run.stderr, as: UTF8.self)
        }
        return text
    }
}

/// Runs a push probe's test over SSH: connect, check the host key, authenticate, then
/// send the command at the run time on the already-open session.
public enum PushRunner {
    /// - Parameters:
    ///   - runAt: the scheduled run, for the `{run_at}` placeholder (now when nil).
    ///   - startAt: the wall-clock instant to start the command at (at once when nil).
    public static func run(_ target: PushTarget, runAt: UnixTime?, startAt: Double?, outputLimit: Int) async -> PushOutcome {
        let connectStartedAt = Date().timeIntervalSince1970
        let command = target.expandedCommand(runAt: runAt ?? UnixTime(connectStartedAt.rounded(.down)))
        var outcome = PushOutcome(target: target, command: command, result: .failure(SSHError(.cancelled, "not started")),
                                  connectStartedAt: connectStartedAt, connectedAt: nil)
        do throws(SSHError) {
            let options = try connectOptions(target)
            let connection = try await SSHConnection.connect(options)
            outcome.connectedAt = Date().timeIntervalSince1970
            let result: Result<SSHCommandResult, SSHError>
            do {
                result = .success(try await connection.run(command, startAt: startAt, timeout: .seconds(target.timeoutSeconds), outputLimit: outputLimit))
            } catch {
                result = .failure(error)
            }
            await connection.close()
            outcome.result = result
        } catch {
            outcome.result = .failure(error)
        }
        return outcome
    }

    static func connectOptions(_ target: PushTarget) throws(SSHError) -> SSHConnectOptions {
        var passphrase: String?
        if let file = target.identityPassphraseFile {
            do {
                passphrase = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw SSHError(.identityUnusable, "cannot read identity_passphrase_file \(file): \(error.localizedDescription)")
            }
        }
        return SSHConnectOptions(
            endpoint: SSHEndpoint(host: target.host, port: target.port), user: target.user,
            identityFile: target.identity, identityPassphrase: passphrase, knownHostsFile: target.knownHosts,
            hostKeyPolicy: target.hostKeyCheck == .acceptNew ? .acceptNew : .strict,
            connectTimeout: .seconds(target.connectTimeoutSeconds))
    }
}
