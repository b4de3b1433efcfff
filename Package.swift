// swift-tools-version:6.1
import PackageDescription

/// One setting for every target (STYLE.md §2).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Flywheel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flywheel", targets: ["flywheel"]),
        .library(name: "FlywheelCore", targets: ["FlywheelCore"]),
        .library(name: "FlywheelStore", targets: ["FlywheelStore"]),
        .library(name: "FlywheelS3", targets: ["FlywheelS3"]),
        .library(name: "FlywheelRegistry", targets: ["FlywheelRegistry"]),
        .library(name: "FlywheelData", targets: ["FlywheelData"]),
        .library(name: "FlywheelLearn", targets: ["FlywheelLearn"]),
        .library(name: "FlywheelYAML", targets: ["FlywheelYAML"]),
        .library(name: "FlywheelPipelines", targets: ["FlywheelPipelines"]),
        .library(name: "FlywheelServing", targets: ["FlywheelServing"]),
        .library(name: "FlywheelServer", targets: ["FlywheelServer"]),
        .library(name: "FlywheelUI", targets: ["FlywheelUI"]),
        .library(name: "FlywheelMonitoring", targets: ["FlywheelMonitoring"]),
        .library(name: "FlywheelCLI", targets: ["FlywheelCLI"]),
        .library(name: "FlywheelTesting", targets: ["FlywheelTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "FlywheelCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelStore",
            dependencies: ["FlywheelCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // The S3 blob store (DESIGN.md: Core, async-http-client, swift-crypto); the signer so far.
        .target(
            name: "FlywheelS3",
            dependencies: ["FlywheelCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelRegistry",
            dependencies: ["FlywheelCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelData",
            dependencies: ["FlywheelCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelLearn",
            dependencies: ["FlywheelCore", "FlywheelData"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelYAML",
            dependencies: ["FlywheelCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelPipelines",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelYAML",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelServing",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelYAML",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one C target: the address of Swift concurrency's global-executor hook (see its header).
        .target(name: "CFlywheelHooks"),
        // The web UI: pages rendered from the store's answers; no web framework (Server mounts it).
        .target(
            name: "FlywheelUI",
            dependencies: ["FlywheelCore", "FlywheelRegistry", "FlywheelServing", "FlywheelPipelines", "FlywheelMonitoring"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelServer",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelServing", "FlywheelMonitoring", "FlywheelYAML",
                "FlywheelUI",
                "CFlywheelHooks",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelMonitoring",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelYAML",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelTesting",
            dependencies: ["FlywheelCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlywheelCLI",
            dependencies: [
                "FlywheelCore", "FlywheelStore", "FlywheelRegistry", "FlywheelData", "FlywheelLearn", "FlywheelPipelines",
                "FlywheelServing", "FlywheelServer", "FlywheelYAML", "FlywheelMonitoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flywheel",
            dependencies: ["FlywheelCLI"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flywheel-bench",
            dependencies: ["FlywheelCore", "FlywheelStore", "FlywheelRegistry", "FlywheelData", "FlywheelLearn", "FlywheelUI"],
            path: "Sources/FlywheelBench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelCoreTests",
            dependencies: ["FlywheelCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelStoreTests",
            dependencies: ["FlywheelCore", "FlywheelStore", "FlywheelRegistry", "FlywheelTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelS3Tests",
            dependencies: ["FlywheelCore", "FlywheelS3"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelDataTests",
            dependencies: ["FlywheelCore", "FlywheelData"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelLearnTests",
            dependencies: ["FlywheelCore", "FlywheelData", "FlywheelLearn"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelPipelinesTests",
            dependencies: ["FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelPipelines", "FlywheelStore", "FlywheelTesting"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelMonitoringTests",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelMonitoring", "FlywheelStore", "FlywheelTesting",
                "FlywheelYAML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelServerTests",
            dependencies: [
                "FlywheelCore", "FlywheelData", "FlywheelLearn", "FlywheelRegistry", "FlywheelServing", "FlywheelServer", "FlywheelTesting",
                "FlywheelYAML", "FlywheelMonitoring",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelUITests",
            dependencies: ["FlywheelCore", "FlywheelUI", "FlywheelServing", "FlywheelTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlywheelCLITests",
            dependencies: ["FlywheelCore", "FlywheelStore", "FlywheelCLI", "flywheel", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
    ]
)
