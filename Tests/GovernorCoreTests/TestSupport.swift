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

/// Every problem loading `governorFile` reports, whether the load succeeds with
/// warnings and skipped schools or throws on an error in governor.cfg itself.
func loadProblems(_ governorFile: String) -> [ConfigProblem] {
    do {
        return try ConfigLoader.load(governorFile: governorFile).problems
    } catch {
        return error.problems
    }
}
