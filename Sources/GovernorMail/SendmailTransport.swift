import Foundation
import GovernorCore
#if canImport(Glibc)
import Glibc
#endif

/// Pipes the message to the local MTA (`sendmail -t -oi`), the Unix convention cron
/// and smartd use; the MTA queues and retries on its own.
public struct SendmailTransport: MailTransport {
    public var path: String

    public init(path: String = "/usr/sbin/sendmail") {
        self.path = path
    }

    public var summary: String { path }

    public func send(_ message: MailMessage) async throws(MailError) {
        let path = self.path
        let outcome: Result<Void, MailError> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Self.pipe(message, to: path)) }
            thread.name = "sendmail"
            thread.start()
        }
        try outcome.get()
    }

    private static func pipe(_ message: MailMessage, to path: String) -> Result<Void, MailError> {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(MailError("\(path) (sendmail) is not an executable program; install an MTA or set 'smtp' instead"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        // -t: recipients from the headers; -oi: a line with a single dot is not the end.
        process.arguments = ["-t", "-oi", "-f", MailboxAddress.address(message.from)]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(MailError("cannot start \(path): \(error.localizedDescription)"))
        }
        // sendmail reads LF line ends from a pipe.
        input.fileHandleForWriting.write(Data(message.rendered.replacing("\r\n", with: "\n").utf8))
        try? input.fileHandleForWriting.close()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(MailError("\(path) exited with status \(process.terminationStatus)\(text.isEmpty ? "" : ": \(text)")"))
        }
        return .success(())
    }
}
