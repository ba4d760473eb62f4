import NIOCore
import NIOEmbedded
import Testing

@testable import RedisClient

@Suite("Channel handler, byte-exact")
struct RedisChannelHandlerTests {
    func makeChannel() async throws -> NIOAsyncTestingChannel {
        try await NIOAsyncTestingChannel(handlers: [RESPReplyDecoder(), RedisChannelHandler()])
    }

    func send(_ channel: NIOAsyncTestingChannel, _ command: RESPCommand, timeout: TimeAmount = .seconds(1)) async throws -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        try await channel.writeOutbound(RedisRequest(command: command, promise: promise, deadline: channel.eventLoop.now + timeout))
        return promise.futureResult
    }

    @Test("Writes the command's bytes and fulfils pipelined promises in order")
    func pipelining() async throws {
        let channel = try await self.makeChannel()
        let first = try await self.send(channel, RESPCommand("GET", "a"))
        let second = try await self.send(channel, RESPCommand("INCR", "b"))
        #expect(try await channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"))
        #expect(try await channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "$1\r\nx\r\n:"))
        try await channel.writeInbound(ByteBuffer(string: "5\r\n"))
        #expect(try await first.get() == .bulkString(ByteBuffer(string: "x")))
        #expect(try await second.get() == .integer(5))
        _ = try await channel.finish()
    }

    @Test("Many replies in one read fulfil all their commands at once")
    func manyRepliesInOneRead() async throws {
        let channel = try await self.makeChannel()
        var futures: [EventLoopFuture<RESPValue>] = []
        for index in 0..<50 { futures.append(try await self.send(channel, RESPCommand("ECHO", "\(index)"))) }
        var replies = ""
        for index in 0..<50 { replies += "$\(String(index).utf8.count)\r\n\(index)\r\n" }
        try await channel.writeInbound(ByteBuffer(string: replies))
        for (index, future) in futures.enumerated() {
            #expect(try await future.get().string == "\(index)")
        }
        _ = try await channel.finish()
    }

    @Test("An error reply fails only its own command")
    func errorReply() async throws {
        let channel = try await self.makeChannel()
        let bad = try await self.send(channel, RESPCommand("NOPE"))
        let good = try await self.send(channel, RESPCommand("PING"))
        try await channel.writeInbound(ByteBuffer(string: "-ERR unknown command\r\n+PONG\r\n"))
        await #expect(throws: RedisError.self) { try await bad.get() }
        #expect(try await good.get() == .simpleString("PONG"))
        _ = try await channel.finish()
    }

    @Test("A transaction goes out as one piece and is answered by EXEC's reply; a command after it gets its own")
    func transaction() async throws {
        let channel = try await self.makeChannel()
        let transaction = try await self.send(channel, RESPCommand.transaction([RESPCommand("SET", "a", "1"), RESPCommand("GET", "a")]))
        let after = try await self.send(channel, RESPCommand("PING"))
        let written = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n"
        #expect(try await channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: written))
        #expect(try await channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "*1\r\n$4\r\nPING\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "+OK\r\n+QUEUED\r\n+QUE"))
        try await channel.writeInbound(ByteBuffer(string: "UED\r\n*2\r\n+OK\r\n$1\r\n1\r\n+PONG\r\n"))
        #expect(try await transaction.get() == .array([.simpleString("OK"), .bulkString(ByteBuffer(string: "1"))]))
        #expect(try await after.get() == .simpleString("PONG"))
        _ = try await channel.finish()
    }

    @Test(
        "A failed transaction fails with its first error, not EXECABORT; the next command is answered",
        arguments: [
            // Refused while queueing: nothing ran.
            ("+OK\r\n-MOVED 15495 127.0.0.1:7001\r\n-ASK 3300 127.0.0.1:7002\r\n-EXECABORT Transaction discarded\r\n", "MOVED 15495 127.0.0.1:7001"),
            // A command failed as it ran, inside EXEC's array.
            ("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-NOSCRIPT No matching script.\r\n$1\r\nx\r\n", "NOSCRIPT No matching script."),
        ]
    )
    func transactionFailed(replies: String, error: String) async throws {
        let channel = try await self.makeChannel()
        let transaction = try await self.send(channel, RESPCommand.transaction([RESPCommand("EVALSHA", "ab", "0"), RESPCommand("GET", "a")]))
        let after = try await self.send(channel, RESPCommand("PING"))
        try await channel.writeInbound(ByteBuffer(string: replies + "+PONG\r\n"))
        await #expect { try await transaction.get() } throws: { ($0 as? RedisError)?.message == error }
        #expect(try await after.get() == .simpleString("PONG"))
        _ = try await channel.finish()
    }

    @Test("A reply nobody waits for closes the connection")
    func unexpectedReply() async throws {
        let channel = try await self.makeChannel()
        try await channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        try await channel.closeFuture.get()
        #expect(!channel.isActive)
    }

    @Test("An overdue command times out, fails everything pending and closes the connection")
    func timeout() async throws {
        let channel = try await self.makeChannel()
        let first = try await self.send(channel, RESPCommand("GET", "a"), timeout: .milliseconds(50))
        let second = try await self.send(channel, RESPCommand("GET", "b"), timeout: .seconds(10))
        await channel.testingEventLoop.advanceTime(by: .milliseconds(60))
        await #expect { try await first.get() } throws: { ($0 as? RedisError)?.code == .timeout }
        await #expect { try await second.get() } throws: { ($0 as? RedisError)?.code == .timeout }
        try await channel.closeFuture.get()
        // Writing after the close fails at once, never hangs.
        let late = channel.eventLoop.makePromise(of: RESPValue.self)
        try? await channel.writeOutbound(RedisRequest(command: RESPCommand("PING"), promise: late, deadline: .now() + .seconds(1)))
        late.fail(RedisError(.connectionClosed, "test cleanup"))
        await #expect(throws: RedisError.self) { try await late.futureResult.get() }
    }

    @Test("Closing the connection fails pending commands with connectionClosed")
    func close() async throws {
        let channel = try await self.makeChannel()
        let pending = try await self.send(channel, RESPCommand("GET", "a"))
        try await channel.close()
        await #expect { try await pending.get() } throws: { ($0 as? RedisError)?.code == .connectionClosed }
    }
}
