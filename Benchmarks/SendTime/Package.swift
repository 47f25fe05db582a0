// swift-tools-version:6.1
// The send-time quality benchmark, a package of its own: it needs only HeraldCore, so it resolves and
// builds without the benchmark harness that Benchmarks/Package.swift pulls in.
import PackageDescription

let package = Package(
    name: "SendTimeBenchmark",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Herald", path: "../..")],
    targets: [
        .executableTarget(
            name: "sendtime-bench",
            dependencies: [.product(name: "HeraldCore", package: "Herald")],
            path: "Sources/sendtime-bench",
            swiftSettings: [.swiftLanguageMode(.v6)])
    ]
)
