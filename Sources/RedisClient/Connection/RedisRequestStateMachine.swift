import NIOCore

/// The decisions of ``RedisChannelHandler``, kept apart from NIO so they can be read and tested alone:
/// which request a reply answers (replies come in the order commands were sent), when the oldest
/// request is overdue, and what fails when the connection ends.
struct RedisRequestStateMachine {
    /// A request sent and not yet answered.
    struct Pending {
        var receiver: RedisReplyReceiver
        var deadline: NIODeadline
        /// Replies still to come: a transaction gets one per command it holds, and only its last
        /// one (or the first error before it) answers the receiver.
        var remainingReplies: Int
        /// The first error reply among a transaction's replies before its last.
        var earlierError: String?
        /// Whether this is a transaction (`MULTI` … `EXEC`): more than one reply.
        let isTransaction: Bool
    }

    private enum State {
        case open(CircularBuffer<Pending>)
        case closed(RedisError)
    }

    private var state: State = .open(CircularBuffer(initialCapacity: 16))

    /// What to do with a request about to be written.
    enum SendAction {
        /// Write it; it is now pending.
        case write
        /// The connection is closed: fail it with this error.
        case fail(RedisError)
    }

    /// What to do with a reply that arrived.
    enum ReplyAction {
        /// Answer this request with this reply (an error reply fails it).
        case fulfil(RedisReplyReceiver, RESPValue)
        /// It is one of a transaction's replies before its last: wait for the rest.
        case wait
        /// Nothing was waiting for it: the stream is out of step, close the connection.
        case unexpected
    }

    /// What to do when the timer fires.
    enum TimerAction {
        /// The oldest request is overdue: close the connection and fail everything pending.
        case timeOut([RedisReplyReceiver])
        /// Check again at this deadline.
        case rearm(NIODeadline)
        /// Nothing is pending.
        case idle
    }

    /// Records a request that is to be written.
    mutating func send(_ receiver: RedisReplyReceiver, deadline: NIODeadline, replies: Int = 1) -> SendAction {
        switch self.state {
        case .open(var pending):
            self.state = .closed(RedisError(.protocolError, "unreachable"))  // avoid a copy of the buffer
            pending.append(Pending(receiver: receiver, deadline: deadline, remainingReplies: replies, earlierError: nil, isTransaction: replies > 1))
            self.state = .open(pending)
            return .write
        case .closed(let error):
            return .fail(error)
        }
    }

    /// Matches a reply with the oldest pending request.
    mutating func receive(_ reply: RESPValue) -> ReplyAction {
        switch self.state {
        case .open(var pending):
            guard !pending.isEmpty else { return .unexpected }
            self.state = .closed(RedisError(.protocolError, "unreachable"))
            defer { self.state = .open(pending) }
            let oldest = pending.startIndex
            if pending[oldest].remainingReplies > 1 {
                pending[oldest].remainingReplies -= 1
                if case .error(let message) = reply, pending[oldest].earlierError == nil {
                    pending[oldest].earlierError = message
                }
                return .wait
            }
            let first = pending.removeFirst()
            return .fulfil(first.receiver, first.earlierError.map(RESPValue.error) ?? Self.answer(reply, transaction: first.isTransaction))
        case .closed:
            return .unexpected
        }
    }

    /// What a request's last reply answers: for a transaction, `EXEC`'s array unless one of its
    /// commands failed as it ran, then that first error (a caller never gets half a transaction's
    /// replies, and errors such as `READONLY` or `NOSCRIPT` reach it as errors).
    private static func answer(_ reply: RESPValue, transaction: Bool) -> RESPValue {
        guard transaction, case .array(let replies) = reply else { return reply }
        for case .error(let message) in replies { return .error(message) }
        return reply
    }

    /// The deadline of the oldest pending request, if any.
    var nextDeadline: NIODeadline? {
        if case .open(let pending) = self.state { return pending.first?.deadline }
        return nil
    }

    /// Decides what the timer does at `now`.
    mutating func timerFired(now: NIODeadline) -> TimerAction {
        guard case .open(let pending) = self.state, let first = pending.first else { return .idle }
        if first.deadline <= now {
            return .timeOut(self.close(RedisError(.timeout, "Redis did not answer within the command timeout")))
        }
        return .rearm(first.deadline)
    }

    /// Ends the connection: every pending request is returned to be failed, later sends fail with `error`.
    mutating func close(_ error: RedisError) -> [RedisReplyReceiver] {
        switch self.state {
        case .open(let pending):
            self.state = .closed(error)
            return pending.map(\.receiver)
        case .closed:
            return []
        }
    }

    /// The error that closed the connection, if it is closed.
    var closedError: RedisError? {
        if case .closed(let error) = self.state { return error }
        return nil
    }

    /// How many requests await their replies.
    var pendingCount: Int {
        if case .open(let pending) = self.state { return pending.count }
        return 0
    }
}
