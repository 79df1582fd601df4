import ArgumentParser
import GovernorCore
import GovernorServer

/// `governor token ID`: a new probe (or operator) token and the line to paste.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a new random token for a probe (or 'admin') and print the config line that goes with it.",
        discussion: "Put the token on the probe; put the token_sha256 line in the school file's [Probe ID] section. The governor keeps only the hash."
    )

    @Argument(help: "The probe's id, or 'admin' for the operator token.")
    var id: String

    func validate() throws {
        guard ProbeConfig.isValidID(id) else {
            throw ValidationError("'\(id)' is not a valid probe id: a probe id has \(ProbeConfig.idRule)")
        }
    }

    func run() {
        let token = ProbeToken.generate()
        let hash = ProbeToken.sha256Hex(token)
        print("token: \(token)")
        print("")
        if id == "admin" {
            print("# in governor.cfg, [Governor]:")
            print("admin_token_sha256 = \(hash)")
        } else {
            print("# in the school file:")
            print("[Probe \(id)]")
            print("token_sha256 = \(hash)")
        }
    }
}
