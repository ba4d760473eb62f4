/// How the service reaches Redis, read from its URL:
///
/// - `redis://…`, `rediss://…`, `unix://…`: one server (see ``RedisEndpoint``);
/// - `redis-sentinel://[user:password@]host:port,host:port/primaryName[?db=N]`: the primary that
///   Sentinel names, followed through failovers (the credentials are the primary's);
/// - `redis-cluster://[user:password@]host:port,host:port`: a Redis Cluster, reached through any
///   of the listed nodes (`rediss-cluster://` and `rediss-sentinel://` for TLS, with `?ca=`).
public enum RedisTopology: Sendable, Hashable {
    /// One Redis server.
    case standalone(RedisEndpoint)
    /// A primary monitored by Sentinel.
    case sentinel(RedisSentinel)
    /// A Redis Cluster and the nodes to learn it from.
    case cluster(seeds: [RedisEndpoint])

    /// Reads a Redis URL; throws ``RedisError/Code/invalidURL`` naming what is wrong.
    public init(url: String) throws(RedisError) {
        if let parts = Self.split(url, kind: "sentinel") {
            guard let slash = parts.rest.firstIndex(of: "/"), !parts.rest[parts.rest.index(after: slash)...].isEmpty else {
                throw RedisError(.invalidURL, "a Sentinel URL names the primary after the sentinels, as in redis-sentinel://host:26379/mymaster")
            }
            let primaryName = String(parts.rest[parts.rest.index(after: slash)...])
            let (credentials, hosts) = Self.splitCredentials(parts.rest[..<slash])
            var database = "0"
            for pair in parts.query.dropFirst().split(separator: "&") where pair.hasPrefix("db=") {
                database = String(pair.dropFirst(3))
            }
            guard !hosts.isEmpty else { throw RedisError(.invalidURL, "the Sentinel URL names no sentinel") }
            let sentinels = try hosts.map { host throws(RedisError) in try RedisEndpoint(url: parts.scheme + host + parts.caQuery) }
            let template = try RedisEndpoint(url: parts.scheme + credentials + "sentinel-primary/" + database + parts.caQuery)
            self = .sentinel(RedisSentinel(sentinels: sentinels, primaryName: primaryName, primaryTemplate: template))
        } else if let parts = Self.split(url, kind: "cluster") {
            var rest = parts.rest
            if rest.hasSuffix("/") || rest.hasSuffix("/0") { rest = rest[..<rest.lastIndex(of: "/")!] }
            guard !rest.contains("/") else {
                throw RedisError(.invalidURL, "a Redis Cluster has only database 0: leave the database out of the URL")
            }
            let (credentials, hosts) = Self.splitCredentials(rest)
            guard !hosts.isEmpty else { throw RedisError(.invalidURL, "the Redis Cluster URL names no node") }
            self = .cluster(seeds: try hosts.map { host throws(RedisError) in
                try RedisEndpoint(url: parts.scheme + credentials + host + parts.caQuery)
            })
        } else {
            self = .standalone(try RedisEndpoint(url: url))
        }
    }

    /// The URL with passwords masked, for logs.
    public var description: String {
        switch self {
        case .standalone(let endpoint):
            return endpoint.description
        case .sentinel(let sentinel):
            return "sentinel \(sentinel.primaryName) via \(sentinel.sentinels.map(\.description).joined(separator: ","))"
        case .cluster(let seeds):
            return "cluster via \(seeds.map(\.description).joined(separator: ","))"
        }
    }

    /// A `redis-<kind>://` or `rediss-<kind>://` URL in parts: the scheme of its servers' own URLs
    /// (`redis://` or `rediss://`), what follows the scheme up to the query, the query (with its
    /// `?`) and the `?ca=` part of it for each server's URL; nil for another scheme.
    private static func split(_ url: String, kind: String) -> (scheme: String, rest: Substring, query: String, caQuery: String)? {
        for tls in [false, true] {
            let scheme = (tls ? "rediss-" : "redis-") + kind + "://"
            guard url.hasPrefix(scheme) else { continue }
            var rest = Substring(url.dropFirst(scheme.count))
            var query = ""
            if let mark = rest.firstIndex(of: "?") {
                query = String(rest[mark...])
                rest = rest[..<mark]
            }
            var caQuery = ""
            for pair in query.dropFirst().split(separator: "&") where pair.hasPrefix("ca=") { caQuery = "?" + pair }
            return (tls ? "rediss://" : "redis://", rest, query, caQuery)
        }
        return nil
    }

    /// `user:password@` (or empty) and the comma-separated hosts after it.
    private static func splitCredentials(_ text: Substring) -> (String, [String]) {
        var credentials = ""
        var hosts = text
        if let at = text.lastIndex(of: "@") {
            credentials = String(text[...at])
            hosts = text[text.index(after: at)...]
        }
        return (credentials, hosts.split(separator: ",").map(String.init))
    }
}
