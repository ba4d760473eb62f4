import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import RedisClient

@Suite("Redis URLs")
struct RedisEndpointTests {
    @Test("The accepted forms")
    func forms() throws {
        #expect(try RedisEndpoint(url: "redis://127.0.0.1:6379/0") == RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379)))
        #expect(try RedisEndpoint(url: "redis://localhost") == RedisEndpoint(address: .tcp(host: "localhost", port: 6379)))
        #expect(try RedisEndpoint(url: "redis://:s%40cret@h:1234/3") == RedisEndpoint(address: .tcp(host: "h", port: 1234), password: "s@cret", database: 3))
        #expect(try RedisEndpoint(url: "redis://app:pw@h:1/0") == RedisEndpoint(address: .tcp(host: "h", port: 1), username: "app", password: "pw"))
        #expect(try RedisEndpoint(url: "unix:///run/redis.sock?db=2") == RedisEndpoint(address: .unix(path: "/run/redis.sock"), database: 2))
        var tls = RedisEndpoint(address: .tcp(host: "r", port: 6380), password: "p", database: 1)
        tls.tls = .init(caFile: "/etc/ca.pem")
        #expect(try RedisEndpoint(url: "rediss://:p@r:6380/1?ca=/etc/ca.pem") == tls)
    }

    @Test("Bad URLs are refused with a reason", arguments: ["http://x", "redis://", "redis://h:notaport", "redis://h:70000", "redis://h/x", "unix://relative"])
    func bad(url: String) {
        #expect { try RedisEndpoint(url: url) } throws: { ($0 as? RedisError)?.code == .invalidURL }
    }

    @Test("The description masks the password")
    func masked() throws {
        #expect(try RedisEndpoint(url: "redis://:topsecret@h:1/0").description == "redis://:***@h:1/0")
    }
}

@Suite("Redis connections' socket options")
struct RedisSocketOptionTests {
    @Test("A TCP connection to Redis has TCP_NODELAY and not SO_DEBUG (the same option number at the socket level, refused without CAP_NET_ADMIN)")
    func noDelayNotDebug() async throws {
        let endpoint = try RedisServer.shared()
        let channel = try await endpoint.makeChannel(
            on: MultiThreadedEventLoopGroup.singleton.next(), connectTimeout: .seconds(5), handler: { RESPNoopHandler() }
        )
        defer { channel.close(promise: nil) }
        #expect(try await channel.getOption(.tcpOption(.tcp_nodelay)).get() == 1)
        #expect(try await channel.getOption(ChannelOptions.Types.SocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: SO_DEBUG))).get() == 0)
    }
}

/// A handler that leaves the pipeline's end alone.
private final class RESPNoopHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = RESPValue
}
