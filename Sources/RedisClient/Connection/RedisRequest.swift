import NIOCore

/// A command on its way to Redis, with the promise its reply fulfils and the time by which it must come.
struct RedisRequest: Sendable {
    /// The encoded command.
    var command: RESPCommand
    /// Fulfilled with the reply, or failed with a ``RedisError``.
    var promise: EventLoopPromise<RESPValue>
    /// When the reply is overdue.
    var deadline: NIODeadline
}
