import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

enum Fixtures {
    static func path(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }
}

/// `python3` on the PATH (CI installs it).
func python3() throws -> String {
    try Executables.onPath("python3")
}
