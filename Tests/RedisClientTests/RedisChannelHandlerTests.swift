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
