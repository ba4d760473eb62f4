/// Where a Redis server is and how to log in to it, read from a Redis URL.
///
/// Accepted forms: `redis://host:port/db`, `redis://:password@host:port/db`,
/// `redis://user:password@host:port/db`, the same with `rediss://` for TLS (with `?ca=/path/ca.pem`
/// to trust a private CA instead of the system's roots) and `unix:///path/to/redis.sock` (with `?db=N`).
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// How to reach the server.
    public enum Address: Sendable, Hashable {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// How to reach the server.
    public var address: Address
    /// The ACL user name for `AUTH`, if any.
    public var username: String?
    /// The password for `AUTH`, if any.
    public var password: String?
    /// The database index selected after connecting.
    public var database: Int
    /// TLS settings, for `rediss://`; nil for a plain connection.
    public var tls: TLS?

    /// How to speak TLS to the server.
    public struct TLS: Sendable, Hashable {
        /// A PEM file of the CA certificates to trust; nil trusts the system's roots.
        public var caFile: String?
    }

    /// An endpoint from its parts.
    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    /// Reads a Redis URL; throws ``RedisError/Code/invalidURL`` naming what is wrong.
    public init(url: String) throws(RedisError) {
        if url.hasPrefix("unix://") {
            var rest = Substring(url.dropFirst("unix://".count))
            var database = 0
            if let query = rest.firstIndex(of: "?") {
                let parameters = rest[rest.index(after: query)...]
                rest = rest[..<query]
                for pair in parameters.split(separator: "&") where pair.hasPrefix("db=") {
                    guard let number = Int(pair.dropFirst(3)), number >= 0 else {
                        throw RedisError(.invalidURL, "the database in the Redis URL is not a number")
                    }
                    database = number
                }
            }
            guard rest.hasPrefix("/") else {
                throw RedisError(.invalidURL, "a unix Redis URL needs an absolute path, as in unix:///run/redis.sock")
            }
            self.init(address: .unix(path: String(rest)), database: database)
            return
        }
        let tls: TLS?
        var rest: Substring
        if url.hasPrefix("redis://") {
            tls = nil
            rest = Substring(url.dropFirst("redis://".count))
        } else if url.hasPrefix("rediss://") {
            rest = Substring(url.dropFirst("rediss://".count))
            var caFile: String?
            if let query = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: query)...].split(separator: "&") where pair.hasPrefix("ca=") {
                    caFile = Self.percentDecoded(pair.dropFirst(3))
                }
                rest = rest[..<query]
            }
            tls = TLS(caFile: caFile)
        } else {
            throw RedisError(.invalidURL, "a Redis URL starts with redis://, rediss:// or unix://")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = Self.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw RedisError(.invalidURL, "the database in the Redis URL is not a number")
                }
                database = number
            }
        }
        var host = rest
        var port = 6379
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()) else {
                    throw RedisError(.invalidURL, "the port in the Redis URL is not a number")
                }
                port = number
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]) else {
                throw RedisError(.invalidURL, "the port in the Redis URL is not a number")
            }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "the Redis URL names no host") }
        guard (1...65535).contains(port) else { throw RedisError(.invalidURL, "the port in the Redis URL is out of range") }
        self.init(address: .tcp(host: String(host), port: port), username: username, password: password, database: database)
        self.tls = tls
    }

    /// The URL with the password masked, for logs.
    public var description: String {
        switch self.address {
        case .unix(let path):
            return "unix://\(path)" + (self.database == 0 ? "" : "?db=\(self.database)")
        case .tcp(let host, let port):
            let credentials = self.password == nil ? "" : "\(self.username ?? ""):***@"
            return "\(self.tls == nil ? "redis" : "rediss")://\(credentials)\(host):\(port)/\(self.database)"
        }
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
