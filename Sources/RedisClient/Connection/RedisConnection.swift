import Logging
import NIOCore
import NIOPosix

/// One connection to a Redis server, on which many commands may be in flight at once.
///
/// A connection is only handed out once its handshake (`AUTH`, `SELECT`, `PING`) has been answered,
/// so a server that accepts TCP connections but does not answer (frozen, or still loading) never
/// counts as up.
public final class RedisConnection: Sendable {
    /// The NIO channel of the connection.
    let channel: any Channel
    /// How long a command may wait for its reply.
    public let commandTimeout: TimeAmount

    /// The event loop the connection's channel runs on.
    public var eventLoop: any EventLoop { self.channel.eventLoop }

    private init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Opens a connection to `endpoint` and completes its handshake, all within `connectTimeout`.
    public static func connect(
        to endpoint: RedisEndpoint,
        on eventLoop: any EventLoop,
        connectTimeout: TimeAmount,
        commandTimeout: TimeAmount,
        requirePrimary: Bool = false
    ) async throws(RedisError) -> RedisConnection {
        let channel = try await endpoint.makeChannel(on: eventLoop, connectTimeout: connectTimeout) { RedisChannelHandler() }
        let connection = RedisConnection(channel: channel, commandTimeout: commandTimeout)
        do {
            try await connection.handshake(endpoint: endpoint, timeout: connectTimeout, requirePrimary: requirePrimary)
        } catch {
            connection.channel.close(promise: nil)
            throw error
        }
        return connection
    }

    private func handshake(endpoint: RedisEndpoint, timeout: TimeAmount, requirePrimary: Bool) async throws(RedisError) {
        var replies: [EventLoopFuture<RESPValue>] = []
        if let password = endpoint.password {
            if let username = endpoint.username {
                replies.append(self.write(RESPCommand("AUTH", username, password), timeout: timeout))
            } else {
                replies.append(self.write(RESPCommand("AUTH", password), timeout: timeout))
            }
        }
        if endpoint.database != 0 {
            replies.append(self.write(RESPCommand("SELECT", String(endpoint.database)), timeout: timeout))
        }
        replies.append(self.write(RESPCommand(requirePrimary ? "ROLE" : "PING"), timeout: timeout))
        self.channel.flush()
        for reply in replies {
            do {
                let value = try await reply.get()
                if requirePrimary, reply === replies.last, value.array?.first?.string != "master" {
                    throw RedisError(.connectionUnavailable, "\(endpoint) is not a primary")
                }
            } catch let error as RedisError {
                if error.code == .serverError {
                    throw RedisError(.connectionUnavailable, "Redis refused the connection's handshake: \(error.message)")
                }
                throw error
            } catch {
                throw RedisError(.connectionClosed, "\(error)")
            }
        }
    }

    /// Sends one command and waits for its reply; an error reply throws ``RedisError/Code/serverError``.
    ///
    /// From a task on the connection's own event loop (the pool hands out such connections) the
    /// command goes through the pipeline at once and the reply resumes the task directly, with no
    /// promise, future or callback between them. From anywhere else it takes one hop onto the loop.
    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        let channel = self.channel
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                guard channel.eventLoop.inEventLoop else {
                    // A promise, failed too if the write never reaches the handler; it completes once.
                    self.write(command, timeout: self.commandTimeout, flush: true).whenComplete { continuation.resume(with: $0) }
                    return
                }
                // On the loop, an active channel still has its handlers: the write reaches the
                // handler now, which answers the continuation exactly once (reply, error, timeout or close).
                guard channel.isActive else {
                    continuation.resume(throwing: RedisError(.connectionClosed, "the connection to Redis is closed"))
                    return
                }
                let request = RedisRequest(
                    command: command, receiver: .continuation(continuation), deadline: channel.eventLoop.now + self.commandTimeout
                )
                channel.writeAndFlush(request, promise: nil)
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionClosed, "\(error)")
        }
    }

    /// Sends several commands in one write and waits for all their replies, in order.
    ///
    /// They are written in one go on the connection's event loop, so no other task's command falls
    /// between them (`ASKING` counts for the very next command only).
    public func pipeline(_ commands: [RESPCommand]) async throws(RedisError) -> [Result<RESPValue, RedisError>] {
        let eventLoop = self.channel.eventLoop
        let promises = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let writeAll: @Sendable () -> Void = {
            for (command, promise) in zip(commands, promises) {
                self.write(command, promise: promise, timeout: self.commandTimeout)
            }
            self.channel.flush()
        }
        if eventLoop.inEventLoop { writeAll() } else { eventLoop.execute(writeAll) }
        var results: [Result<RESPValue, RedisError>] = []
        results.reserveCapacity(promises.count)
        for promise in promises {
            do {
                results.append(.success(try await promise.futureResult.get()))
            } catch let error as RedisError {
                results.append(.failure(error))
            } catch {
                results.append(.failure(RedisError(.connectionClosed, "\(error)")))
            }
        }
        return results
    }

    private func write(_ command: RESPCommand, timeout: TimeAmount, flush: Bool = false) -> EventLoopFuture<RESPValue> {
        let promise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        self.write(command, promise: promise, timeout: timeout, flush: flush)
        return promise.futureResult
    }

    private func write(_ command: RESPCommand, promise: EventLoopPromise<RESPValue>, timeout: TimeAmount, flush: Bool = false) {
        let request = RedisRequest(command: command, promise: promise, deadline: self.channel.eventLoop.now + timeout)
        let written = flush ? self.channel.writeAndFlush(request) : self.channel.write(request)
        written.whenFailure { error in
            // A write that never reached the handler (the channel already closed) must not leave the promise hanging.
            promise.fail((error as? RedisError) ?? RedisError(.connectionClosed, "the connection to Redis is closed"))
        }
    }

    /// Whether the connection is still open.
    public var isActive: Bool { self.channel.isActive }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    /// Closes the connection; pending commands fail with ``RedisError/Code/connectionClosed``.
    public func close() async {
        try? await self.channel.close()
    }

    /// Starts closing the connection and returns at once (for a `deinit`, which cannot wait).
    public func closeSoon() {
        self.channel.close(promise: nil)
    }
}
