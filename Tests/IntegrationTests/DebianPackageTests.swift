import Foundation
import GovernorTestSupport
import Testing

/// The two .deb files of one release build, made once per test run.
enum BuiltPackages {
    struct Files: Sendable {
        var governor: String
        var probe: String
        var version: String
        var directory: String
    }

    /// `$GOVERNOR_TEST_DEBS` when `scripts/test` has built them already; otherwise
    /// `scripts/package` builds them here, into `.build/debs` (a release build: minutes).
    static let files: Result<Files, TestFailure> = Result {
        var directory = ProcessInfo.processInfo.environment["GOVERNOR_TEST_DEBS"] ?? ""
        if directory.isEmpty {
            directory = (try DebianRoot.cacheDirectory() as NSString).deletingLastPathComponent + "/debs"
            let built = try runProcess("/bin/bash", [SystemdUnitTests.packageRoot + "/scripts/package"],
                                       environment: ProcessInfo.processInfo.environment.merging(["GOVERNOR_DEB_DIR": directory]) { $1 })
            guard built.status == 0 else { throw TestFailure("scripts/package failed (\(built.status)):\n\(built.stderr.suffix(4000))") }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let governor = names.first(where: { $0.hasPrefix("governor_") && $0.hasSuffix("_amd64.deb") }),
              let probe = names.first(where: { $0.hasPrefix("governor-probe_") && $0.hasSuffix("_amd64.deb") }) else {
            throw TestFailure("no governor_*.deb and governor-probe_*.deb in \(directory); run scripts/package")
        }
        let version = String(governor.dropFirst("governor_".count).dropLast("_amd64.deb".count))
        return Files(governor: "\(directory)/\(governor)", probe: "\(directory)/\(probe)", version: version, directory: directory)
    }.mapError { $0 as? TestFailure ?? TestFailure("\($0)") }

    /// A control field of a .deb, read by dpkg-deb.
    static func field(_ name: String, of deb: String) throws -> String {
        let result = try runProcess("/usr/bin/dpkg-deb", ["--field", deb, name])
        guard result.status == 0 else { throw TestFailure("dpkg-deb --field \(deb) \(name): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The package names in a Depends field, without version constraints.
    static func dependencies(of deb: String) throws -> Set<String> {
        Set(try field("Depends", of: deb).split(separator: ",").map {
            String($0.split(separator: "(")[0]).trimmingCharacters(in: .whitespaces)
        })
    }
}

@Suite("Debian packages")
struct DebianPackageTests {
    /// What a package depends on besides the libraries its binary links, and why.
    static let nonLibraryDependencies: Set<String> = [
        "tzdata",               // schedules are computed in the schools' real time zones
        "passwd",               // postinst makes the system user with useradd
        "init-system-helpers",  // deb-systemd-helper and deb-systemd-invoke in the maintainer scripts
    ]

    @Test("Depends names the package of every shared library the binaries link, and nothing else unexplained",
          arguments: ["governor", "governor-probe"])
    func dependsMatchLinkedLibraries(package: String) async throws {
        try await offThePool { try Self.checkDepends(package: package) }
    }

    static func checkDepends(package: String) throws {
        let files = try BuiltPackages.files.get()
        let deb = package == "governor" ? files.governor : files.probe
        let directory = try TemporaryDirectory("governor-deb")
        defer { directory.remove() }
        let unpacked = try runProcess("/usr/bin/dpkg-deb", ["-x", deb, directory.path])
        #expect(unpacked.status == 0, "\(unpacked.stderr)")
        let binary = "\(directory.path)/usr/bin/\(package)"

        let dynamic = try runProcess(try Executables.onPath("objdump"), ["-p", binary])
        let needed = dynamic.stdout.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            return words.count == 2 && words[0] == "NEEDED" ? String(words[1]) : nil
        }
        #expect(!needed.isEmpty, "objdump -p found no NEEDED entries in \(binary)")
        #expect(!needed.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0 == "libdispatch.so" },
                "the Swift runtime must be linked in (--static-swift-stdlib): \(needed)")

        // Where the loader finds each library on this (build) machine, and which package ships it.
        let ldd = try runProcess("/usr/bin/ldd", [binary])
        var libraryPackages: Set<String> = []
        for soname in needed {
            let path = ldd.stdout.split(separator: "\n").lazy.compactMap { line -> String? in
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if words.first.map(String.init) == soname, words.count >= 3, words[1] == "=>" { return String(words[2]) }
                if let first = words.first, first.hasSuffix("/" + soname) { return String(first) }
                return nil
            }.first
            guard let path else {
                Issue.record("ldd does not resolve \(soname):\n\(ldd.stdout)")
                continue
            }
            guard let owner = try owningPackage(of: path) else {
                Issue.record("no installed package ships \(path) (\(soname))")
                continue
            }
            libraryPackages.insert(owner)
        }
        let depends = try BuiltPackages.dependencies(of: deb)
        #expect(!libraryPackages.isEmpty)
        #expect(libraryPackages.subtracting(depends).isEmpty,
                "\(package) links libraries of \(libraryPackages.subtracting(depends).sorted()) that Depends does not name (\(depends.sorted()))")
        #expect(depends.subtracting(libraryPackages).subtracting(nonLibraryDependencies).isEmpty,
                "\(package) depends on \(depends.subtracting(libraryPackages).subtracting(nonLibraryDependencies).sorted()) without linking them")
    }

    /// The package that ships `path`, asked of dpkg under each name the file has
    /// (Debian 12 merged /lib into /usr/lib, and dpkg knows the name it installed).
    static func owningPackage(of path: String) throws -> String? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var candidates = [path, real]
        for name in [path, real] {
            if name.hasPrefix("/usr/") { candidates.append(String(name.dropFirst(4))) } else { candidates.append("/usr" + name) }
        }
        for candidate in candidates {
            let result = try runProcess("/usr/bin/dpkg-query", ["--search", candidate])
            if result.status == 0, let line = result.stdout.split(separator: "\n").first, let colon = line.firstIndex(of: ":") {
                return String(line[..<colon])
            }
        }
        return nil
    }
}
