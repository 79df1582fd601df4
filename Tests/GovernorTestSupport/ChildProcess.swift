import Foundation

/// What a finished child process printed and how it ended.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion and returns its exit status and output.
///
/// Both pipes are read to their end before waiting, so a child that prints a lot
/// cannot block on a full pipe.
public func runProcess(_ executable: String, _ arguments: [String], currentDirectory: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errorBox = DataBox()
    let reader = Thread { errorBox.data = err.fileHandleForReading.readDataToEndOfFile(); errorBox.done.signal() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errorBox.done.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errorBox.data, as: UTF8.self))
}

/// Hands one reader thread's bytes to the caller; `done` orders the write before the read.
private final class DataBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

/// Finds programs on the PATH and the executables this package builds.
public enum Executables {
    /// A program on the PATH; CI installs what the tests need, so absence is a failure.
    public static func onPath(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not on the PATH; .ci/run installs it (see README)")
    }

    /// The directory where `swift build` put this package's executables: the one
    /// holding the test bundle (override with `GOVERNOR_PRODUCTS_DIR`).
    public static func productsDirectory() throws -> String {
        if let override = ProcessInfo.processInfo.environment["GOVERNOR_PRODUCTS_DIR"] { return override }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // `…/debug/governorPackageTests.xctest` on Linux, `…/debug/X.xctest/Contents/MacOS/X` on macOS.
        for _ in 0..<6 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("governor").path) { return url.path }
        }
        throw TestFailure("cannot find the built 'governor' executable near \(CommandLine.arguments[0]); set GOVERNOR_PRODUCTS_DIR")
    }

    /// A product of this package, such as `governor`.
    public static func built(_ name: String) throws -> String {
        try productsDirectory() + "/" + name
    }
}
