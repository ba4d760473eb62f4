import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real multi-server Redis on loopback — a 6-node Redis Cluster or a Sentinel set-up — started
/// by `scripts/redis-topology` (the same script operators use for local runs) and stopped by
/// ``stop()`` or, at the latest, when the test process exits.
public final class LocalRedisTopology: Sendable {
    /// What the script wrote to its env file: `REDIS_URL`, `NODE_PORTS`, `PRIMARY_PID`, ….
    public let values: [String: String]
    private let directory: URL

    private init(values: [String: String], directory: URL) {
        self.values = values
        self.directory = directory
    }

    /// The URL the service takes (`redis-cluster://…` or `redis-sentinel://…`).
    public var url: String { self.values["REDIS_URL"] ?? "" }

    /// A comma-separated list from the env file, as integers.
    public func integers(_ name: String) -> [Int] {
        (self.values[name] ?? "").split(separator: ",").compactMap { Int($0) }
    }

    /// Starts a Redis Cluster of 3 primaries with a replica each.
    public static func startCluster() async throws -> LocalRedisTopology { try await self.start("cluster") }

    /// Starts a primary, its replica and 3 sentinels watching it as `sc-primary`.
    public static func startSentinel() async throws -> LocalRedisTopology { try await self.start("sentinel") }

    private static func start(_ kind: String) async throws -> LocalRedisTopology {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sc-\(kind)-\(UUID().uuidString)")
        let output = try await self.script([kind, "up", directory.path])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let topology = LocalRedisTopology(values: values, directory: directory)
        for name in ["NODE_PIDS", "PRIMARY_PID", "REPLICA_PID", "SENTINEL_PIDS"] {
            for pid in topology.integers(name) { ProcessRegistry.add(Int32(pid)) }
        }
        guard !topology.url.isEmpty else { throw TestSetupError("scripts/redis-topology \(kind) up printed no REDIS_URL") }
        return topology
    }

    /// Stops every server and removes the directory, on a thread of its own (callable from a
    /// `defer`; the test goes on at once). Whatever still runs at exit is killed then.
    public func stop() {
        let directory = self.directory
        Thread {
            _ = try? Self.runBlocking(Self.repositoryRoot.appendingPathComponent("scripts/redis-topology"), ["down", directory.path])
            try? FileManager.default.removeItem(at: directory)
        }.start()
    }

    /// Starts server `name` (`node-1`…, `primary`, `replica`, `sentinel-1`…) again from its
    /// configuration, as after a crash; returns its new pid (also in `name.pid`, for `down`).
    @discardableResult
    public func restart(_ name: String) async throws -> Int {
        let output = try await Self.script(["restart", name, self.directory.path])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("PID=") }), let pid = Int(line.dropFirst(4)) else {
            throw TestSetupError("scripts/redis-topology restart \(name) printed no pid")
        }
        ProcessRegistry.add(Int32(pid))
        return pid
    }

    /// SIGKILLs the server with `pid` (a crash) and waits until it is gone.
    public static func kill(pid: Int) async {
        Glibc.kill(Int32(pid), SIGKILL)
        for _ in 0..<250 where isRunning(pid: pid) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Whether `pid` runs (exists and is not a zombie waiting to be reaped).
    public static func isRunning(pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Waits until one of the servers on `ports` reports `role` (`master`, `slave`) and returns its port.
    public static func waitForRole(_ role: String, among ports: [Int], timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for port in ports where (try? await self.redisCLI(["-p", String(port), "ROLE"]))?.hasPrefix(role) == true {
                return port
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("no server of \(ports) became \(role) in time")
    }

    /// Waits until the replica on `port` has its link to its primary up.
    public static func waitForLink(port: Int) async throws {
        for _ in 0..<400 {
            if (try? await self.redisCLI(["-p", String(port), "INFO", "replication"]))?.contains("master_link_status:up") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("the replica on \(port) did not sync")
    }

    /// Runs `redis-cli` with `arguments` and returns what it printed.
    @discardableResult
    public static func redisCLI(_ arguments: [String]) async throws -> String {
        try await self.run(URL(fileURLWithPath: "/usr/bin/redis-cli"), arguments)
    }

    private static func script(_ arguments: [String]) async throws -> String {
        try await self.run(repositoryRoot.appendingPathComponent("scripts/redis-topology"), arguments)
    }

    /// Runs a program to its end on a thread of its own: waiting for it must not hold one of the
    /// few threads Swift Concurrency runs every test on (on 2 cores, two such waits stall them all).
    private static func run(_ executable: URL, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(executable, arguments) }) }.start()
        }
    }

    private static func runBlocking(_ executable: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting, so that a full pipe never blocks the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorText = Data()
        group.enter()
        DispatchQueue.global().async {
            errorText = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputText = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed: \(String(decoding: errorText, as: UTF8.self))")
        }
        return String(decoding: outputText, as: UTF8.self)
    }

    /// The repository: three levels above this file (Tests/TestSupport/LocalRedisTopology.swift).
    private static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}
