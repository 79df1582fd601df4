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
        .library(name: "GovernorCore", targets: ["GovernorCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure logic: INI reader, config model and validation, windows, schedules.
        .target(
            name: "GovernorCore",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "governor",
            dependencies: [
                "GovernorCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `swift run -c release governor-bench`: schedule generation figures for the README.
        .executableTarget(
            name: "governor-bench",
            dependencies: ["GovernorCore"],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets: temporary trees, child processes, built executables.
        .target(
            name: "GovernorTestSupport",
            path: "Tests/GovernorTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernorCoreTests",
            dependencies: ["GovernorCore", "GovernorTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        // Runs the built `governor` executable as an operator would.
        .testTarget(
            name: "GovernorCLITests",
            dependencies: ["GovernorCore", "GovernorTestSupport", "governor"],
            swiftSettings: swiftSettings
        ),
    ]
)
