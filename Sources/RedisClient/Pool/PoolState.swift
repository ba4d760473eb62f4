import NIOCore

/// The mutable part of ``RedisConnectionPool``: which slots are up, which failed, who waits.
struct PoolState {
    /// The outcome of asking for a connection.
    enum Lease {
        case connection(RedisConnection)
        case unavailable(RedisError)
        case wait
    }

    typealias Waiter = CheckedContinuation<RedisConnection, any Error>

    private var slots: [RedisConnection?]
    private var slotFailed: [Bool]
    private(set) var connections: [RedisConnection] = []
    private var nextIndex = 0
    private var waiters: [UInt64: Waiter] = [:]
    private var nextWaiterID: UInt64 = 0
    private var isShutDown = false

    init(size: Int) {
        self.slots = Array(repeating: nil, count: size)
        self.slotFailed = Array(repeating: false, count: size)
    }

    /// A connection round-robin, preferring one on `eventLoop` (the caller's, so that the command
    /// and its reply stay on the caller's thread); or why there is none, or that the caller should wait.
    mutating func lease(preferring eventLoop: (any EventLoop)? = nil) -> Lease {
        if self.isShutDown {
            return .unavailable(RedisError(.shutdown, "the Redis client is shutting down"))
        }
        if !self.connections.isEmpty {
            self.nextIndex = (self.nextIndex + 1) % self.connections.count
            if let eventLoop {
                for offset in 0..<self.connections.count {
                    let candidate = self.connections[(self.nextIndex + offset) % self.connections.count]
                    if candidate.eventLoop === eventLoop { return .connection(candidate) }
                }
            }
            return .connection(self.connections[self.nextIndex])
        }
        if self.slotFailed.contains(true) {
            return .unavailable(RedisError(.connectionUnavailable, "Redis is unreachable"))
        }
        return .wait
    }

    mutating func addWaiter(_ waiter: Waiter) -> UInt64 {
        self.nextWaiterID &+= 1
        self.waiters[self.nextWaiterID] = waiter
        return self.nextWaiterID
    }

    mutating func removeWaiter(_ id: UInt64) -> Waiter? {
        self.waiters.removeValue(forKey: id)
    }

    /// A slot came up: it serves from now on, and every waiter takes it.
    mutating func connected(slot: Int, _ connection: RedisConnection) -> [Waiter] {
        self.slots[slot] = connection
        self.slotFailed[slot] = false
        self.rebuild()
        return self.takeWaiters()
    }

    /// A slot's connection dropped; it reconnects next.
    mutating func disconnected(slot: Int) {
        self.slots[slot] = nil
        self.rebuild()
    }

    /// A slot's connection attempt failed. Waiters fail too once no slot can serve them.
    mutating func failed(slot: Int) -> [Waiter] {
        self.slotFailed[slot] = true
        return self.connections.isEmpty ? self.takeWaiters() : []
    }

    /// Ends the pool: the open connections to close and the waiters to fail.
    mutating func shutDown() -> ([RedisConnection], [Waiter]) {
        self.isShutDown = true
        let open = self.connections
        self.slots = self.slots.map { _ in nil }
        self.connections = []
        return (open, self.takeWaiters())
    }

    private mutating func takeWaiters() -> [Waiter] {
        let taken = Array(self.waiters.values)
        self.waiters = [:]
        return taken
    }

    private mutating func rebuild() {
        self.connections = self.slots.compactMap { $0 }
    }
}
