import NIOCore

/// Writes commands and matches replies to them, in order, on one connection; many commands may be
/// in flight at once (pipelining). A request still unanswered at its deadline closes the connection,
/// failing everything pending with ``RedisError/Code/timeout``: a Redis that stopped answering is
/// treated as gone, never waited on.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private var stateMachine = RedisRequestStateMachine()
    private var timer: Scheduled<Void>?
    private var flushPending = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        switch self.stateMachine.send(request.receiver, deadline: request.deadline, replies: request.command.replyCount) {
        case .write:
            context.write(self.wrapOutboundOut(request.command.buffer), promise: promise)
            self.armTimer(context: context)
        case .fail(let error):
            request.receiver.fail(error)
            promise?.fail(error)
        }
    }

    /// Coalesces flushes: commands written from many tasks within one event-loop tick go out in
    /// one `write` syscall (and Redis answers them in one), instead of one syscall per command.
    func flush(context: ChannelHandlerContext) {
        guard !self.flushPending else { return }
        self.flushPending = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushPending = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = self.unwrapInboundIn(data)
        switch self.stateMachine.receive(reply) {
        case .fulfil(let receiver, let answer):
            if case .error(let message) = answer {
                receiver.fail(RedisError(.serverError, message))
            } else {
                receiver.succeed(answer)
            }
        case .wait:
            break
        case .unexpected:
            self.close(context: context, error: RedisError(.protocolError, "a reply arrived that no command was waiting for"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisError(.connectionClosed, "the connection to Redis closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let redisError = (error as? RedisError) ?? RedisError(.connectionClosed, "connection error: \(error)")
        self.close(context: context, error: redisError)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failAll(RedisError(.connectionClosed, "the connection to Redis closed"))
    }

    private func close(context: ChannelHandlerContext, error: RedisError) {
        self.failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        self.timer?.cancel()
        self.timer = nil
        for receiver in self.stateMachine.close(error) {
            receiver.fail(error)
        }
    }

    /// Keeps one timer, set for the oldest pending request's deadline; when it fires it either times
    /// the connection out or moves on to the deadline of what is now the oldest.
    private func armTimer(context: ChannelHandlerContext) {
        guard self.timer == nil, let deadline = self.stateMachine.nextDeadline else { return }
        self.schedule(at: deadline, context: context)
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            switch handler.stateMachine.timerFired(now: context.eventLoop.now) {
            case .timeOut(let receivers):
                let error = handler.stateMachine.closedError ?? RedisError(.timeout, "timeout")
                for receiver in receivers { receiver.fail(error) }
                context.close(promise: nil)
            case .rearm(let next):
                handler.schedule(at: next, context: context)
            case .idle:
                break
            }
        }
    }
}
