import NIOCore

/// Where the reply to one command goes: a promise, or, for a task that waits on its own event
/// loop, that task's continuation (no future, callback or extra allocation on the way).
///
/// The channel handler completes each receiver exactly once: with the reply, or with the error
/// that ended the connection.
enum RedisReplyReceiver: Sendable {
    /// Fulfils or fails a promise.
    case promise(EventLoopPromise<RESPValue>)
    /// Resumes a suspended task.
    case continuation(UnsafeContinuation<RESPValue, any Error>)

    /// Completes with `reply`.
    func succeed(_ reply: RESPValue) {
        switch self {
        case .promise(let promise): promise.succeed(reply)
        case .continuation(let continuation): continuation.resume(returning: reply)
        }
    }

    /// Completes with `error`.
    func fail(_ error: RedisError) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .continuation(let continuation): continuation.resume(throwing: error)
        }
    }
}
