import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `session-context serve` process started from the built binary, on a free loopback port.
public final class WorkerProcess: Sendable {
    /// The port it serves on.
    public let port: Int
    private let process: Process
    private let output: URL

    /// The built `session-context` binary, beside the test bundle.
    public static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("session-context")
    }

    private init(port: Int, process: Process, output: URL) {
        self.port = port
        self.process = process
        self.output = output
    }

    /// Starts a worker with `environment` (on top of the port and host) and waits until `/health/live` answers.
    /// With `openFiles`, the worker runs under that open-file limit, soft and hard (`prlimit`).
    /// Its standard output and error go to a file that ``log`` reads, or to `standardOutput`.
    public static func start(
        environment: [String: String], arguments: [String] = [], openFiles: Int? = nil, standardOutput: FileHandle? = nil
    ) async throws -> WorkerProcess {
        let port = try RedisServer.freePort()
        let process = Process()
        var command = [self.binary.path, "serve"] + arguments
        if let openFiles {
            command = ["/usr/bin/prlimit", "--nofile=\(openFiles):\(openFiles)"] + command
        }
        // Started as a service manager starts it: with the signals the test runner ignores
        // (SIGPIPE; ignored signals are inherited across exec) back at their defaults.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.withDefaultSignals] + command
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SESSION_CONTEXT_") && $0.key != "REDIS_URL" }
        env["SESSION_CONTEXT_HOST"] = "127.0.0.1"
        env["SESSION_CONTEXT_PORT"] = String(port)
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sc-worker-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try standardOutput ?? FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        ProcessRegistry.add(process.processIdentifier)
        let worker = WorkerProcess(port: port, process: process, output: output)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !process.isRunning { throw TestSetupError("the worker exited at start-up: \(worker.log)") }
            if RedisServer.canConnect(port: port) { return worker }
            try await Task.sleep(for: .milliseconds(20))
        }
        await worker.kill()
        throw TestSetupError("the worker did not listen on \(port) in time: \(worker.log)")
    }

    /// Python that sets SIGPIPE to its default action and executes its arguments (the process stays the same).
    private static let withDefaultSignals = "import os, signal, sys; signal.signal(signal.SIGPIPE, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"

    /// Runs the binary (or `executable`, such as `timeout` running the binary) with `arguments` to
    /// completion; returns its exit code and output.
    public static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable ?? self.binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SESSION_CONTEXT_") && $0.key != "REDIS_URL" }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// What the worker printed so far.
    public var log: String {
        (try? String(contentsOf: self.output, encoding: .utf8)) ?? ""
    }

    /// The process id (prlimit runs the worker in its own process).
    public var processIdentifier: Int32 { self.process.processIdentifier }

    /// Whether the process is still running.
    public var isRunning: Bool { self.process.isRunning }

    /// The CPU time the process has used so far, user and system (from `/proc/<pid>/stat`).
    public var cpuTime: Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/\(self.process.processIdentifier)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return .milliseconds((user + system) * 1000 / ticks)
    }

    /// Sends SIGTERM (graceful shutdown).
    public func terminate() {
        Glibc.kill(self.process.processIdentifier, SIGTERM)
    }

    /// Waits up to `timeout` for the process to exit; returns its exit code, or nil if it is still running.
    public func waitForExit(timeout: TimeInterval) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !self.process.isRunning {
                ProcessRegistry.remove(self.process.processIdentifier)
                return self.process.terminationStatus
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Stops the worker at once (SIGKILL).
    public func kill() async {
        Glibc.kill(self.process.processIdentifier, SIGKILL)
        _ = await self.waitForExit(timeout: 5)
        try? FileManager.default.removeItem(at: self.output)
    }
}
