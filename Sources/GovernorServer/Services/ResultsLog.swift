import GovernorWire
import Foundation
import GovernorStore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `[Governor] results_log`: every stored result, pull or push, also appended as one
/// JSON line, as the original governor kept a log file of every test's output.
///
/// Each line is written with one `write` on an `O_APPEND` descriptor, so lines from
/// concurrent results never interleave and `logrotate` (copytruncate or move) works.
enum ResultsLog {
    static func append(_ result: TestResult, to path: String?, logger: Logger) {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            var line = try encoder.encode(ResultView(result))
            line.append(UInt8(ascii: "\n"))
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == line.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            logger.error("cannot append a result to results_log \(path) (it is stored in the database): \(error)")
        }
    }
}
