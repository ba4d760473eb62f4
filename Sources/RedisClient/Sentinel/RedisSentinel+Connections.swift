import NIOCore
import Synchronization

extension RedisSentinel {
    /// The kept connections of a resolver and its copies, one per sentinel, made on first use.
    final class Connections: Sendable {
        private let bySentinel = Mutex<[RedisEndpoint: RedisKeptConnection]>([:])

        /// The connection to `sentinel` (opened when a command needs it). Its timeouts are those
        /// of the first question asked of that sentinel.
        func connection(to sentinel: RedisEndpoint, timeout: TimeAmount) -> RedisKeptConnection {
            self.bySentinel.withLock { connections in
                if let connection = connections[sentinel] { return connection }
                let connection = RedisKeptConnection(to: sentinel, connectTimeout: timeout, commandTimeout: timeout)
                connections[sentinel] = connection
                return connection
            }
        }
    }

    /// Resolvers are equal when they ask the same sentinels the same question; their connections
    /// do not count.
    public static func == (lhs: RedisSentinel, rhs: RedisSentinel) -> Bool {
        lhs.sentinels == rhs.sentinels && lhs.primaryName == rhs.primaryName && lhs.primaryTemplate == rhs.primaryTemplate
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.sentinels)
        hasher.combine(self.primaryName)
        hasher.combine(self.primaryTemplate)
    }
}
