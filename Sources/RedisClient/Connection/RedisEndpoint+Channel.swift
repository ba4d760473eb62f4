import NIOCore
import NIOPosix
import NIOSSL

extension RedisEndpoint {
    /// Opens a channel to the server, with TLS first in the pipeline for `rediss://`, then the
    /// reply decoder and `handler`. Shared by command connections and subscriptions.
    func makeChannel(
        on eventLoop: any EventLoop,
        connectTimeout: TimeAmount,
        handler: @escaping @Sendable () -> any ChannelHandler
    ) async throws(RedisError) -> any Channel {
        let sslContext: NIOSSLContext?
        do {
            sslContext = try self.tls.map { tls in
                var configuration = TLSConfiguration.makeClientConfiguration()
                if let caFile = tls.caFile {
                    configuration.trustRoots = .file(caFile)
                }
                return try NIOSSLContext(configuration: configuration)
            }
        } catch {
            throw RedisError(.connectionUnavailable, "cannot set up TLS for \(self): \(error)")
        }
        var serverHostname: String?
        if case .tcp(let host, _) = self.address, !host.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) {
            serverHostname = host
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { [serverHostname] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(RESPReplyDecoder())
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
        do {
            switch self.address {
            case .tcp(let host, let port):
                // A TCP-level option: `.socketOption(.tcp_nodelay)` is SOL_SOCKET option 1, which
                // is SO_DEBUG on Linux (refused with EACCES to a process without CAP_NET_ADMIN, as
                // in a container, so no connection could be made there).
                return try await bootstrap.channelOption(.tcpOption(.tcp_nodelay), value: 1).connect(host: host, port: port).get()
            case .unix(let path):
                return try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisError(.connectionUnavailable, "cannot connect to \(self): \(error)")
        }
    }
}
