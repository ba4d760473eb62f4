// swift-tools-version:6.0
// A bare Hummingbird 2 server with one route, the floor scripts/bench measures the worker against
// (issue 19): same Hummingbird as the worker, no middleware, no Redis, no token check.
import PackageDescription

let package = Package(
    name: "bare-hummingbird",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "bare-hummingbird",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/BareHummingbird"
        ),
    ]
)
