import NIOCore
import NIOPosix

/// A dedicated connection subscribed to channels and channel patterns, read as an `AsyncSequence`
/// of messages. The sequence ends with an error when the connection drops; subscribe again to go on.
public final class RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubMessage

    private let channel: any Channel
    private let stream: AsyncThrowingStream<RedisPubSubMessage, any Error>

    private init(channel: any Channel, stream: AsyncThrowingStream<RedisPubSubMessage, any Error>) {
        self.channel = channel
        self.stream = stream
    }

    /// Connects to `endpoint` and subscribes; returns once Redis has confirmed every subscription.
    /// `shardChannels` are sharded channels (`SSUBSCRIBE`, Redis 7): on a cluster, `endpoint` must
    /// be the node serving their slots; each is subscribed with a command of its own.
    public static func subscribe(
        to endpoint: RedisEndpoint,
        channels: [String] = [],
        patterns: [String] = [],
        shardChannels: [String] = [],
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        timeout: TimeAmount = .seconds(2),
        bufferingNewest limit: Int = 10_000
    ) async throws(RedisError) -> RedisSubscription {
        precondition(!channels.isEmpty || !patterns.isEmpty || !shardChannels.isEmpty, "subscribe to at least one channel or pattern")
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: RedisPubSubMessage.self, throwing: (any Error).self, bufferingPolicy: .bufferingNewest(limit)
        )
        let ready = eventLoop.makePromise(of: Void.self)
        var commands: [RESPCommand] = []
        if let password = endpoint.password {
            commands.append(endpoint.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
        }
        let handshakeReplies = commands.count
        if !channels.isEmpty { commands.append(RESPCommand("SUBSCRIBE", arguments: channels)) }
        if !patterns.isEmpty { commands.append(RESPCommand("PSUBSCRIBE", arguments: patterns)) }
        for channel in shardChannels { commands.append(RESPCommand("SSUBSCRIBE", channel)) }
        let confirmations = channels.count + patterns.count + shardChannels.count
        let channel: any Channel
        do {
            channel = try await endpoint.makeChannel(on: eventLoop, connectTimeout: timeout) {
                RedisPubSubHandler(
                    continuation: continuation,
                    ready: ready,
                    handshakeReplies: handshakeReplies,
                    confirmationsExpected: confirmations
                )
            }
        } catch {
            ready.fail(error)
            throw error
        }
        var bytes = ByteBuffer()
        for command in commands { bytes.writeImmutableBuffer(command.buffer) }
        channel.writeAndFlush(bytes, promise: nil)
        let timer = eventLoop.scheduleTask(in: timeout) {
            ready.fail(RedisError(.timeout, "Redis did not confirm the subscription in time"))
        }
        do {
            try await ready.futureResult.get()
            timer.cancel()
        } catch {
            channel.close(promise: nil)
            throw (error as? RedisError) ?? RedisError(.connectionClosed, "\(error)")
        }
        continuation.onTermination = { _ in channel.close(promise: nil) }
        return RedisSubscription(channel: channel, stream: stream)
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<RedisPubSubMessage, any Error>.AsyncIterator {
        self.stream.makeAsyncIterator()
    }

    /// Unsubscribes by closing the connection without waiting; the sequence then ends.
    public func cancel() {
        self.channel.close(promise: nil)
    }

    /// Unsubscribes by closing the connection; the sequence then ends.
    public func close() async {
        try? await self.channel.close()
    }
}
