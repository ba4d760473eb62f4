import NIOCore
import NIOPosix
import Synchronization

/// One connection to a server, opened when first needed, opened again after it closed, and closed
/// when this object is released: for talking to a server now and then (a sentinel, a stream
/// consumer) without paying a new connection each time.
public final class RedisKeptConnection: Sendable {
    /// The server.
    public let endpoint: RedisEndpoint
    private let connectTimeout: TimeAmount
    private let commandTimeout: TimeAmount
    private let state = Mutex(State())

    private struct State {
        var connection: RedisConnection?
        var isShutDown = false
    }

    /// A connection to `endpoint`, not opened yet.
    public init(to endpoint: RedisEndpoint, connectTimeout: TimeAmount, commandTimeout: TimeAmount) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Sends `command` and waits for its reply, connecting first when the connection is not open.
    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        try await self.open().send(command)
    }

    /// Closes the connection; the next command opens another.
    public func close() {
        self.close(forGood: false)
    }

    /// Closes the connection for good, ending a command under way (a blocking read) at once: later
    /// commands fail with ``RedisError/Code/shutdown``, and a connection that is being opened as
    /// this is called is closed as soon as it is up.
    public func shutDown() {
        self.close(forGood: true)
    }

    private func close(forGood: Bool) {
        self.state.withLock { state in
            defer {
                state.connection = nil
                if forGood { state.isShutDown = true }
            }
            return state.connection
        }?.closeSoon()
    }

    private func open() async throws(RedisError) -> RedisConnection {
        let current = self.state.withLock { $0 }
        if let open = current.connection, open.isActive { return open }
        if current.isShutDown { throw Self.shutDownError }
        let fresh = try await RedisConnection.connect(
            to: self.endpoint,
            on: MultiThreadedEventLoopGroup.singleton.any(),
            connectTimeout: self.connectTimeout,
            commandTimeout: self.commandTimeout
        )
        // Another caller may have connected meanwhile: keep one connection, close the other.
        let (kept, spare) = self.state.withLock { state -> (RedisConnection?, RedisConnection?) in
            if state.isShutDown { return (nil, fresh) }
            if let current = state.connection, current.isActive { return (current, fresh) }
            defer { state.connection = fresh }
            return (fresh, state.connection)
        }
        spare?.closeSoon()
        guard let kept else { throw Self.shutDownError }
        return kept
    }

    private static var shutDownError: RedisError { RedisError(.shutdown, "the kept connection is shut down") }

    deinit {
        self.close()
    }
}
