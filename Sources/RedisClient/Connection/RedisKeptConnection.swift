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
    private let current = Mutex<RedisConnection?>(nil)

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
        self.current.withLock { current in
            defer { current = nil }
            return current
        }?.closeSoon()
    }

    private func open() async throws(RedisError) -> RedisConnection {
        if let open = self.current.withLock({ $0 }), open.isActive { return open }
        let fresh = try await RedisConnection.connect(
            to: self.endpoint,
            on: MultiThreadedEventLoopGroup.singleton.any(),
            connectTimeout: self.connectTimeout,
            commandTimeout: self.commandTimeout
        )
        // Another caller may have connected meanwhile: keep one connection, close the other.
        let (kept, spare) = self.current.withLock { current -> (RedisConnection, RedisConnection?) in
            if let current, current.isActive { return (current, fresh) }
            defer { current = fresh }
            return (fresh, current)
        }
        spare?.closeSoon()
        return kept
    }

    deinit {
        self.close()
    }
}
