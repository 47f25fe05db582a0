// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .executable(name: "heraldd", targets: ["heraldd"]),
        .library(name: "HeraldCore", targets: ["HeraldCore"]),
        .library(name: "HeraldLedger", targets: ["HeraldLedger"]),
        .library(name: "HeraldSQLite", targets: ["HeraldSQLite"]),
        .library(name: "HeraldIngest", targets: ["HeraldIngest"]),
        .library(name: "HeraldDelivery", targets: ["HeraldDelivery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pure logic: values, time, the segment language, config and campaign files.
        .target(
            name: "HeraldCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // The storage contract: the role-sized store and ledger protocols, every value they exchange, and the
        // logic no backend should own (funnel assembly, the claim budget, planning inputs). No SQL here.
        .target(name: "HeraldLedger", dependencies: ["HeraldCore"], swiftSettings: strict),
        // The embedded SQLite store and ledger (GRDB): SQL and row decoding only.
        .target(
            name: "HeraldSQLite",
            dependencies: [
                "HeraldCore", "HeraldLedger", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // The PostgreSQL store and ledger (several daemons sharing one audience), over postgres-nio: SQL and
        // row decoding only.
        .target(
            name: "HeraldPostgres",
            dependencies: [
                "HeraldCore", "HeraldLedger",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Reading users and events (NDJSON, CSV, Segment calls) into any store: the CLI's imports and the API.
        .target(name: "HeraldIngest", dependencies: ["HeraldCore", "HeraldLedger"], swiftSettings: strict),
        // `herald store migrate`: copies a SQLite store into PostgreSQL and verifies it.
        .target(
            name: "HeraldMigration",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // libcurl, with typed wrappers over its variadic calls.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The libcurl engine, email/SMTP + MIME, SMS providers, webhooks, retry, rate limits.
        .target(
            name: "HeraldDelivery",
            dependencies: [
                "HeraldCore", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),  // RSA for FCM's OAuth grant
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The `herald` commands, one small type per file.
        .target(
            name: "HeraldCommands",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres", "HeraldIngest", "HeraldMigration",
                "HeraldDelivery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "herald", dependencies: ["HeraldCommands"], swiftSettings: strict),
        // The web console heraldd serves at /console (docs/console.md): sessions, server-rendered pages with SVG
        // charts, a live tail over Server-Sent Events; assets embedded.
        .target(
            name: "HeraldConsole",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldDelivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // The daemon: scheduler, dispatcher, HTTP API, systemd notify, reload, metrics.
        .target(
            name: "HeraldDaemon",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres", "HeraldIngest", "HeraldDelivery",
                "HeraldConsole",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "heraldd", dependencies: ["HeraldDaemon"], swiftSettings: strict),
        .testTarget(
            name: "HeraldCoreTests",
            dependencies: [
                "HeraldCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "HeraldStoreTests",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres", "HeraldIngest", "HeraldMigration",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "HeraldDeliveryTests",
            dependencies: [
                "HeraldCore", "HeraldDelivery", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Tests against real servers on 127.0.0.1 (SMTP, Kannel, HTTP), started by the tests.
        .testTarget(
            name: "HeraldIntegrationTests",
            dependencies: [
                "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres", "HeraldIngest", "HeraldDelivery",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        // The daemon's parts in-process (scheduler, dispatcher, API, systemd notify) and heraldd as a process.
        .testTarget(
            name: "HeraldDaemonTests",
            dependencies: [
                "HeraldDaemon", "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres", "HeraldIngest",
                "HeraldDelivery",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // The console's sessions, CSRF, escaping and charts, and its routes in-process.
        .testTarget(
            name: "HeraldConsoleTests",
            dependencies: [
                "HeraldConsole", "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldDelivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "HeraldCommandsTests",
            dependencies: [
                "HeraldCommands", "HeraldCore", "HeraldLedger", "HeraldSQLite", "HeraldPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
    ]
)
