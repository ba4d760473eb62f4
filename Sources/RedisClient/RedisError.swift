/// An error from the Redis client: the connection, the protocol, or an error reply of the server.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionUnavailable, connectionClosed, timeout, protocolError, serverError, invalidURL, shutdown
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No connection to Redis is up, and none came up in time.
        public static let connectionUnavailable = Code(.connectionUnavailable)
        /// The connection closed before the reply arrived; the command may or may not have run.
        public static let connectionClosed = Code(.connectionClosed)
        /// No reply within the command timeout; the connection was closed.
        public static let timeout = Code(.timeout)
        /// The bytes from the server are not valid RESP.
        public static let protocolError = Code(.protocolError)
        /// The server answered with an error reply.
        public static let serverError = Code(.serverError)
        /// A Redis URL that cannot be used.
        public static let invalidURL = Code(.invalidURL)
        /// The client is shutting down.
        public static let shutdown = Code(.shutdown)

        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, for a person (never holds a password).
    public var message: String

    /// An error of `code` with `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether Redis could not be reached or did not answer in time: a caller should retry later.
    public var isUnavailable: Bool {
        self.code == .connectionUnavailable || self.code == .connectionClosed || self.code == .timeout
            || self.code == .shutdown
            || (self.code == .serverError && (self.message.hasPrefix("LOADING") || self.message.hasPrefix("BUSY")
                || self.message.hasPrefix("MASTERDOWN") || self.message.hasPrefix("TRYAGAIN")
                || self.message.hasPrefix("READONLY") || self.message.hasPrefix("CLUSTERDOWN")))
    }

    /// Whether the server refused the command because it reached `maxmemory` (under a
    /// `noeviction` policy): commands that add data, and every command queued in `MULTI`, are
    /// refused until memory is freed; reads and scripts that add no data still run.
    public var isOutOfMemory: Bool {
        self.code == .serverError && self.message.hasPrefix("OOM")
    }

    public var description: String { "RedisError(\(self.code)): \(self.message)" }
}
