// swift-tools-version:6.1
// Herald's benchmarks, a package of their own so the benchmark harness stays out of the test build.
import PackageDescription

let package = Package(
    name: "HeraldBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Herald", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // ordo-one/benchmark targets: `swift package --package-path Benchmarks benchmark`.
        .executableTarget(
            name: "SegmentBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HeraldCore", package: "Herald"),
                .product(name: "HeraldLedger", package: "Herald"),
                .product(name: "HeraldSQLite", package: "Herald"),
                .product(name: "HeraldIngest", package: "Herald"),
            ],
            path: "Benchmarks/SegmentBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // The engine's side of Delivery/run.sh (webhooks to nginx, mail to smtp-sink).
        .executableTarget(
            name: "delivery-bench",
            dependencies: [
                .product(name: "HeraldCore", package: "Herald"),
                .product(name: "HeraldDelivery", package: "Herald"),
            ],
            path: "Sources/delivery-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // The side-by-side runner that run.sh compares with DuckDB on the same data.
        .executableTarget(
            name: "herald-bench",
            dependencies: [
                .product(name: "HeraldCore", package: "Herald"),
                .product(name: "HeraldLedger", package: "Herald"),
                .product(name: "HeraldSQLite", package: "Herald"),
            ],
            path: "Sources/herald-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]),
<<<<<<< HEAD
        // The engine's side of Push/run.sh: APNs pushes through APNsSender to a local HTTP/2 server.
        .executableTarget(
            name: "push-bench",
            dependencies: [.product(name: "HeraldDelivery", package: "Herald")],
            path: "Sources/push-bench",
=======
        // Thompson sampling against uniform allocation on simulated sends (Bandit/run.sh, docs/experiments.md).
        .executableTarget(
            name: "bandit-bench",
            dependencies: [.product(name: "HeraldCore", package: "Herald")],
            path: "Sources/bandit-bench",
>>>>>>> experiment
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // Issue 3's decision-engine benchmarks: send-time quality and one campaign planned over 1M users.
        .executableTarget(
            name: "decision-bench",
            dependencies: [.product(name: "HeraldCore", package: "Herald")],
            path: "Sources/decision-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
