import NIOCore

/// Reads a connection in subscribe mode: handshake replies first, then subscription confirmations,
/// then messages, which it yields to the subscription's stream.
final class RedisPubSubHandler: ChannelInboundHandler {
    typealias InboundIn = RESPValue

    private let continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation
    private let ready: EventLoopPromise<Void>
    private var handshakeReplies: Int
    private var confirmationsExpected: Int

    init(
        continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation,
        ready: EventLoopPromise<Void>,
        handshakeReplies: Int,
        confirmationsExpected: Int
    ) {
        self.continuation = continuation
        self.ready = ready
        self.handshakeReplies = handshakeReplies
        self.confirmationsExpected = confirmationsExpected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = self.unwrapInboundIn(data)
        if case .error(let message) = reply {
            let error = RedisError(.serverError, message)
            self.ready.fail(error)
            self.continuation.finish(throwing: error)
            context.close(promise: nil)
            return
        }
        if self.handshakeReplies > 0 {
            self.handshakeReplies -= 1
            return
        }
        guard let elements = reply.array, let kind = elements.first?.string else { return }
        switch kind {
        case "message" where elements.count == 3, "smessage" where elements.count == 3:
            guard case .bulkString(let payload) = elements[2] else { return }
            self.continuation.yield(RedisPubSubMessage(channel: elements[1].string ?? "", pattern: nil, payload: payload))
        case "pmessage" where elements.count == 4:
            guard case .bulkString(let payload) = elements[3] else { return }
            self.continuation.yield(
                RedisPubSubMessage(channel: elements[2].string ?? "", pattern: elements[1].string, payload: payload)
            )
        case "subscribe", "psubscribe", "ssubscribe":
            self.confirmationsExpected -= 1
            if self.confirmationsExpected == 0 { self.ready.succeed() }
        case "sunsubscribe":
            // The server dropped a sharded subscription: its slot moved to another node. The
            // subscriber must subscribe again where the slot is now.
            let error = RedisError(.connectionClosed, "the sharded channel \(elements.count > 1 ? elements[1].string ?? "" : "") moved to another node")
            self.continuation.finish(throwing: error)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = RedisError(.connectionClosed, "the subscription's connection to Redis closed")
        self.ready.fail(error)
        self.continuation.finish(throwing: error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError = (error as? RedisError) ?? RedisError(.connectionClosed, "\(error)")
        self.ready.fail(redisError)
        self.continuation.finish(throwing: redisError)
        context.close(promise: nil)
    }
}
