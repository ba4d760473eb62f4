import NIOCore

/// A command on its way to Redis, with where its reply goes and the time by which it must come.
struct RedisRequest: Sendable {
    /// The encoded command.
    var command: RESPCommand
    /// Gets the reply, or a ``RedisError``.
    var receiver: RedisReplyReceiver
    /// When the reply is overdue.
    var deadline: NIODeadline

    /// A request whose reply fulfils `promise`.
    init(command: RESPCommand, promise: EventLoopPromise<RESPValue>, deadline: NIODeadline) {
        self.init(command: command, receiver: .promise(promise), deadline: deadline)
    }

    /// A request whose reply goes to `receiver`.
    init(command: RESPCommand, receiver: RedisReplyReceiver, deadline: NIODeadline) {
        self.command = command
        self.receiver = receiver
        self.deadline = deadline
    }
}
