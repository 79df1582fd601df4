import Foundation
import Testing

@testable import GovernorCore
import GovernorTestSupport

enum Fixtures {
    static func path(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }
}

/// `python3` on the PATH (CI installs it).
func python3() throws -> String {
    try Executables.python3()
}
