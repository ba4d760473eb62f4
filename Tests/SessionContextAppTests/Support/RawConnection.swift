import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection for tests of what a server does with bytes no HTTP client would send.
final class RawConnection: Sendable {
    let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func open(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    /// Whether the server closed the connection within `timeout`.
    func waitUntilClosed(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !self.channel.isActive { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Sends `text`, then returns what came back until the connection closed or `timeout` passed.
    func send(_ text: String, timeout: Duration) async -> String {
        try? await self.channel.writeAndFlush(ByteBuffer(string: text))
        _ = await self.waitUntilClosed(timeout: timeout)
        try? await self.channel.close()
        return String(decoding: self.collector.bytes.withLock { $0 }, as: UTF8.self)
    }

    /// Sends `text`, closes the sending side (the server reads the end of its input), then
    /// returns what came back until the connection closed or `timeout` passed.
    func sendThenHalfClose(_ text: String, timeout: Duration) async -> String {
        try? await self.channel.writeAndFlush(ByteBuffer(string: text))
        try? await self.channel.close(mode: .output)
        _ = await self.waitUntilClosed(timeout: timeout)
        try? await self.channel.close()
        return String(decoding: self.collector.bytes.withLock { $0 }, as: UTF8.self)
    }

    /// Sends `text` and returns what came back as soon as it holds `marker` (or when `timeout` passed),
    /// leaving the connection open.
    func send(_ text: String, until marker: String, timeout: Duration) async -> String {
        await self.send(text, until: { $0.contains(marker) }, timeout: timeout)
    }

    /// Sends `text` and returns everything received so far as soon as it satisfies `done` (or
    /// when `timeout` passed), leaving the connection open.
    func send(_ text: String, until done: (String) -> Bool, timeout: Duration) async -> String {
        self.channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
        let deadline = ContinuousClock.now + timeout
        var received = ""
        while ContinuousClock.now < deadline {
            received = String(decoding: self.collector.bytes.withLock { $0 }, as: UTF8.self)
            if done(received) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return received
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            self.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }
}
