import NIOCore
import NIOPosix

/// Finds the current primary of a Sentinel-monitored Redis: asks each sentinel in turn for
/// `SENTINEL get-master-addr-by-name`, and takes the first answer.
///
/// The pool connects to the address it gets only if the server there says (`ROLE`) that it is a
/// primary, so a sentinel's stale answer, or a primary demoted by a failover, is never used; the
/// pool then asks again, with backoff, until the sentinels name the promoted replica.
///
/// Each sentinel is asked on a connection kept open between questions (shared by the copies of a
/// resolver), so asking often, as the expiry listener does to notice a failover, costs no new
/// connection each time.
public struct RedisSentinel: Sendable, Hashable {
    /// The sentinels (no credentials: sentinels are reached without `AUTH`).
    public var sentinels: [RedisEndpoint]
    /// The name the sentinels monitor the primary under.
    public var primaryName: String
    /// Credentials, database and TLS settings for the primary; its address is the sentinels' answer.
    public var primaryTemplate: RedisEndpoint
    /// The connections to the sentinels, opened as they are first asked.
    let connections = Connections()

    /// A resolver asking `sentinels` for `primaryName`.
    public init(sentinels: [RedisEndpoint], primaryName: String, primaryTemplate: RedisEndpoint) {
        precondition(!sentinels.isEmpty, "Sentinel needs at least one sentinel address")
        self.sentinels = sentinels
        self.primaryName = primaryName
        self.primaryTemplate = primaryTemplate
    }

    /// The primary's endpoint, as the first sentinel that answers names it.
    public func primary(timeout: TimeAmount = .seconds(1)) async throws(RedisError) -> RedisEndpoint {
        var failures: [String] = []
        for sentinel in self.sentinels {
            let connection = self.connections.connection(to: sentinel, timeout: timeout)
            do {
                let reply = try await connection.send(RESPCommand("SENTINEL", "get-master-addr-by-name", self.primaryName))
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string,
                    let port = parts[1].string.flatMap({ Int($0) })
                else {
                    failures.append("\(sentinel): does not know \(self.primaryName)")
                    continue
                }
                var endpoint = self.primaryTemplate
                endpoint.address = .tcp(host: host, port: port)
                return endpoint
            } catch {
                // A connection that broke or timed out is closed already, and the next question
                // opens another; one that got an error reply is still good. (Closing it here could
                // close a connection another caller has just opened.)
                failures.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.connectionUnavailable, "no sentinel named the primary: " + failures.joined(separator: "; "))
    }
}
