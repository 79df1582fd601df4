import Foundation
import GovernorCore

/// The wall clock the server reads, injectable so that tests can stand at any instant.
struct ServerClock: Sendable {
    var now: @Sendable () -> Double

    static let system = ServerClock { Date().timeIntervalSince1970 }

    /// Whole seconds, as schedules use them.
    var seconds: UnixTime { UnixTime(now().rounded(.down)) }

    static func fixed(_ seconds: Double) -> ServerClock {
        ServerClock { seconds }
    }
}
