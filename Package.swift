// swift-tools-version:6.2
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode with
/// strict concurrency everywhere, so no module can quietly opt out.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "governor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "governor", targets: ["governor"]),
        .executable(name: "governor-probe", targets: ["governor-probe"]),
        .library(name: "GovernorCore", targets: ["GovernorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Pure logic: INI reader, config model and validation, windows, schedules.
        .target(
            name: "GovernorCore",
            dependencies: [.product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // libssh2 from the system (Debian: libssh2-1-dev); shim.h wraps its function-like macros.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // A safe async SSH client over libssh2: connect, verify host keys, authenticate, run a command.
        .target(
            name: "GovernorSSH",
            dependencies: ["CLibSSH2", "GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // libcurl from the system (Debian: libcurl4-openssl-dev); shim.h types its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // glibc's allocator controls (<malloc.h>): the arena limit and the return of free heap.
        .systemLibrary(name: "CMalloc"),
        // Alert email: RFC 5322 messages, sent by SMTP (libcurl) or the local sendmail.
        .target(
            name: "GovernorMail",
            dependencies: ["CCurl", "GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // The probe's side: settings, the next/run/report loop, clock check, result queue.
        .target(
            name: "ProbeClient",
            dependencies: [
                "GovernorCore",
                "GovernorWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The API's messages, one home for both ends: Codable types the server answers
        // with, `governor-probe` and `governor status` read, and the OpenAPI document describes.
        .target(
            name: "GovernorWire",
            dependencies: ["GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // Log lines as journald reads them (syslog priority prefixes), for both executables.
        .target(
            name: "GovernorLogging",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The state's interface: the storage protocols, one per concern, and the plain
        // records both backends keep. No driver: each backend depends on this alone.
        .target(
            name: "GovernorStore",
            dependencies: ["GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // The state in one SQLite file: SQLiteState over GRDB, migrations in code. GRDB stays inside.
        .target(
            name: "GovernorSQLite",
            dependencies: [
                "GovernorCore",
                "GovernorStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The shared state of several governors: the state's parts in PostgreSQL (postgres-nio).
        .target(
            name: "GovernorPostgres",
            dependencies: [
                "GovernorCore",
                "GovernorStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The operator's view, as pure presentation: the status report every view shares,
        // the timeline's geometry, the dashboard's Mustache templates and the terminal table.
        .target(
            name: "GovernorViews",
            dependencies: [
                "GovernorCore",
                "GovernorWire",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // `governor serve`: the HTTP API, the scheduler, reloads and systemd integration.
        .target(
            name: "GovernorServer",
            dependencies: [
                "CMalloc",
                "GovernorCore",
                "GovernorViews",
                "GovernorMail",
                "GovernorPostgres",
                "GovernorSSH",
                "GovernorSQLite",
                "GovernorStore",
                "GovernorWire",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The API's OpenAPI document, compiled in: served at /openapi.json with no file to install.
            resources: [.embedInCode("Resources/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "governor",
            dependencies: [
                "GovernorCore",
                "GovernorViews",
                "GovernorLogging",
                "GovernorMail",
                "GovernorPostgres",
                "GovernorServer",
                "GovernorSQLite",
                "GovernorStore",
                "GovernorWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The probe client: @main, arguments and signals; the loop lives in ProbeClient.
        .executableTarget(
            name: "governor-probe",
            dependencies: [
                "ProbeClient", "GovernorCore", "GovernorLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `swift run -c release --static-swift-stdlib governor-bench`: schedule generation figures for the README.
        .executableTarget(
            name: "governor-bench",
            dependencies: ["GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // `benchmarks/push-dispatch.sh`: push-dispatch lateness against a loopback sshd.
        .executableTarget(
            name: "governor-push-bench",
            dependencies: ["GovernorSSH"],
            swiftSettings: swiftSettings
        ),
        // `swift run -c release --static-swift-stdlib governor-probe-bench`: the probe's start lateness.
        .executableTarget(
            name: "governor-probe-bench",
            dependencies: ["ProbeClient", "GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // `benchmarks/fleet-scale.sh`'s anchor: a minimal Hummingbird app, one route, no middleware.
        .executableTarget(
            name: "minimal-hummingbird",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "benchmarks/MinimalHummingbird",
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets: temporary trees, child processes, built executables.
        .target(
            name: "GovernorTestSupport",
            dependencies: [
                "GovernorStore", "GovernorSQLite", "GovernorPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/GovernorTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernorCoreTests",
            dependencies: ["GovernorCore", "GovernorTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        // The wire types against the OpenAPI document, both ways.
        .testTarget(
            name: "GovernorWireTests",
            dependencies: ["GovernorWire", "GovernorCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernorViewsTests",
            dependencies: ["GovernorViews", "GovernorCore", "GovernorWire", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProbeClientTests",
            dependencies: ["ProbeClient", "GovernorTestSupport", "GovernorWire"],
            swiftSettings: swiftSettings
        ),
        // The state on real SQLite files and a real PostgreSQL: migrations, schedules, claims, the outbox.
        .testTarget(
            name: "GovernorStoreTests",
            dependencies: [
                "GovernorStore", "GovernorSQLite", "GovernorPostgres", "GovernorCore", "GovernorTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernorMailTests",
            dependencies: ["GovernorMail"],
            swiftSettings: swiftSettings
        ),
        // The SSH client against a real sshd on 127.0.0.1.
        .testTarget(
            name: "GovernorSSHTests",
            dependencies: ["GovernorSSH", "GovernorTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernorServerTests",
            dependencies: [
                "GovernorCore",
                "GovernorSQLite",
                "GovernorStore",
                "GovernorServer",
                "GovernorTestSupport",
                "GovernorWire",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // The built executables as processes, as an operator runs them.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["GovernorCore", "GovernorTestSupport", "governor", "governor-probe"],
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
    ]
)
