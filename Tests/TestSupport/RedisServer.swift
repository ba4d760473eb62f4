import Foundation
import RedisClient
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, started for the tests and stopped when the test
/// process exits. Tests that stop, freeze or restart Redis start their own; the others share one
/// (the one `./scripts/test` started, named by `SESSION_CONTEXT_TEST_REDIS_URL`, or else one of their own).
public final class RedisServer: Sendable {
    /// The loopback port it listens on.
    public let port: Int
    private let process: Mutex<Process?>
    private let directory: URL
    private let extraArguments: [String]
    private let tls: Bool

    /// The certificate a TLS server presents (and the CA file to trust it), for ``startTLS()``.
    public var caFile: String { self.directory.appendingPathComponent("cert.pem").path }

    /// Its URL.
    public var url: String { "redis://127.0.0.1:\(self.port)/0" }
    /// Its endpoint.
    public var endpoint: RedisEndpoint { try! RedisEndpoint(url: self.url) }

    private init(port: Int, directory: URL, extraArguments: [String], tls: Bool) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
        self.tls = tls
        self.process = Mutex(nil)
    }

    /// The Redis the tests share; on a shared Redis Cluster, its first node (which answers for
    /// the whole cluster's pub/sub, and redirects key commands to the node serving the key).
    public static func shared() throws -> RedisEndpoint {
        try sharedEndpoint.get()
    }

    /// The URL of the Redis the tests share, as the service takes it: one server, or a whole
    /// Redis Cluster when `SESSION_CONTEXT_TEST_REDIS_URL` is a `redis-cluster://` URL (the second
    /// pass of `./scripts/test` runs the API suites so).
    public static func sharedURL() throws -> String {
        if isSharedCluster || isSharedSentinel { return environmentURL ?? "" }
        guard case .tcp(let host, let port) = try shared().address else { return "\(try shared())" }
        return "redis://\(host):\(port)/\(try shared().database)"
    }

    /// Whether the shared Redis is a Redis Cluster.
    public static let isSharedCluster = environmentURL?.hasPrefix("redis-cluster://") ?? false

    /// Whether the shared Redis is a Sentinel set-up (its primary, for probes, is
    /// `SESSION_CONTEXT_TEST_REDIS_PRIMARY`, as `redis://host:port/db`).
    public static let isSharedSentinel = environmentURL?.hasPrefix("redis-sentinel://") ?? false

    private static let environmentURL = ProcessInfo.processInfo.environment["SESSION_CONTEXT_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }

    private static let sharedEndpoint: Result<RedisEndpoint, any Error> = Result {
        if let url = environmentURL {
            switch try RedisTopology(url: url) {
            case .standalone(let endpoint): return endpoint
            case .cluster(let seeds): return seeds[0]
            case .sentinel:
                guard let primary = ProcessInfo.processInfo.environment["SESSION_CONTEXT_TEST_REDIS_PRIMARY"] else {
                    throw TestSetupError("a shared Sentinel set-up needs SESSION_CONTEXT_TEST_REDIS_PRIMARY (its primary's URL)")
                }
                return try RedisEndpoint(url: primary)
            }
        }
        return try RedisServer.start().endpoint
    }

    /// Starts a new redis-server on a free loopback port and waits until it answers;
    /// `arguments` are added to its command line (e.g. `["--enable-debug-command", "yes"]`).
    public static func start(arguments: [String] = []) throws -> RedisServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sc-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = RedisServer(port: try freePort(), directory: directory, extraArguments: arguments, tls: false)
        try server.launch()
        return server
    }

    /// Starts a redis-server that speaks only TLS on its port, with a self-signed certificate for
    /// 127.0.0.1 made by `openssl`; ``caFile`` is that certificate, for the client to trust.
    public static func startTLS() throws -> RedisServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sc-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", directory.appendingPathComponent("key.pem").path, "-out", directory.appendingPathComponent("cert.pem").path,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw TestSetupError("openssl could not make a certificate") }
        let server = RedisServer(port: try freePort(), directory: directory, extraArguments: [], tls: true)
        try server.launch()
        return server
    }

    private func launch() throws {
        let process = Process()
        process.executableURL = try Self.executable()
        let ports = self.tls
            ? [
                "--port", "0", "--tls-port", String(self.port), "--tls-cert-file", self.caFile,
                "--tls-key-file", self.directory.appendingPathComponent("key.pem").path, "--tls-ca-cert-file", self.caFile,
                "--tls-auth-clients", "no",
            ]
            : ["--port", String(self.port)]
        process.arguments = ports + [
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.directory.path, "--daemonize", "no", "--loglevel", "warning",
        ] + self.extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
        ProcessRegistry.add(process.processIdentifier)
        try self.waitUntilReady()
    }

    /// Stops the server with SIGKILL (as a crash would) and waits for it to be gone.
    public func kill() {
        guard let process = self.process.withLock({ current -> Process? in defer { current = nil }; return current }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        ProcessRegistry.remove(process.processIdentifier)
    }

    /// Starts the server again on the same port.
    public func restart() throws {
        self.kill()
        try self.launch()
    }

    /// Starts the server again on the same port after a ``kill()``.
    public func relaunch() throws {
        try self.launch()
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers nothing.
    public func pause() {
        if let pid = self.process.withLock({ $0?.processIdentifier }) { Glibc.kill(pid, SIGSTOP) }
    }

    /// Lets a frozen server go on (SIGCONT).
    public func resume() {
        if let pid = self.process.withLock({ $0?.processIdentifier }) { Glibc.kill(pid, SIGCONT) }
    }

    /// Stops the server and removes its directory.
    public func stop() {
        self.resume()
        self.kill()
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: self.port) { return }
            usleep(20_000)
        }
        throw TestSetupError("redis-server did not start on port \(self.port)")
    }

    private static func executable() throws -> URL {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let path = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
        }
        throw TestSetupError("redis-server is not installed: run ./scripts/test, which installs it")
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestSetupError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// The pids of servers the tests started, killed when the test process exits.
enum ProcessRegistry {
    private static let pids = Mutex<Set<Int32>>([])
    private static let installed: Void = {
        atexit {
            for pid in ProcessRegistry.pids.withLock({ $0 }) {
                kill(pid, SIGCONT)
                kill(pid, SIGKILL)
            }
        }
    }()

    static func add(_ pid: Int32) {
        _ = self.installed
        self.pids.withLock { _ = $0.insert(pid) }
    }

    static func remove(_ pid: Int32) {
        self.pids.withLock { _ = $0.remove(pid) }
    }
}

/// A test could not set up what it needs.
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
