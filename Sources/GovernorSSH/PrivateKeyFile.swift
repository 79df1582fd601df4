import Foundation

/// What can be told about a private key file without decrypting it.
enum PrivateKeyFile {
    /// Whether the file holds an RSA key: a PEM `RSA PRIVATE KEY`, or an OpenSSH key
    /// whose (never encrypted) public part names `ssh-rsa`.
    static func isRSA(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return false }
        // The public key's algorithm name appears within the first few hundred bytes.
        return data.prefix(512).firstRange(of: Data("ssh-rsa".utf8)) != nil
    }
}
