import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TestSupport

/// A raw HTTP/1.1 client for server-sent events: sends one GET and parses the chunked body into
/// events as they arrive. With `reading: false` it never reads (a stalled subscriber).
final class SSEClient: Sendable {
    struct Event: Sendable, Equatable {
        var id: String
        var type: String
        var data: String
    }

    let channel: any Channel
    private let events: AsyncStream<Event>
    /// What has come of the response: its status, heartbeats, and whether its body has ended cleanly.
    let response: SSEResponseState

    static func connect(port: Int, path: String, token: String, lastEventId: String? = nil, reading: Bool = true) async throws -> SSEClient {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        let response = SSEResponseState()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SSEParser(continuation: continuation, response: response))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer \(token)\r\n"
        if let lastEventId { request += "Last-Event-ID: \(lastEventId)\r\n" }
        request += "\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request))
        return SSEClient(channel: channel, events: stream, response: response)
    }

    private init(channel: any Channel, events: AsyncStream<Event>, response: SSEResponseState) {
        self.channel = channel
        self.events = events
        self.response = response
    }

    /// The response's status once its head has come, waiting up to 3 s; nil if none came.
    func status() async throws -> Int? {
        try await eventually(attempts: 60) { self.response.status != nil }
        return self.response.status
    }

    /// The next `count` events (heartbeats and comments skipped); fewer if the stream ends first,
    /// none if they do not all come within `timeout`.
    func next(_ count: Int, timeout: Duration = .seconds(5)) async -> [Event] {
        await self.collect(timeout: timeout) { received in received.count == count }
    }

    /// The first of the coming events that `matches`, or nil if none comes within `timeout`.
    func first(timeout: Duration = .seconds(5), where matches: @escaping @Sendable (Event) -> Bool) async -> Event? {
        let received = await self.collect(timeout: timeout) { received in received.last.map(matches) ?? false }
        return received.last.flatMap { matches($0) ? $0 : nil }
    }

    /// The coming events up to the one after which `done` holds, or up to the end of the stream;
    /// none if neither comes within `timeout`.
    private func collect(timeout: Duration, until done: @escaping @Sendable ([Event]) -> Bool) async -> [Event] {
        await withTaskGroup(of: [Event].self) { group in
            group.addTask {
                var received: [Event] = []
                for await event in self.events {
                    received.append(event)
                    if done(received) { break }
                }
                return received
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return []
            }
            let first = await group.next() ?? []
            group.cancelAll()
            return first
        }
    }

    func close() async {
        try? await self.channel.close()
    }
}

/// Parses the HTTP response head, the chunked framing and the SSE fields.
private final class SSEParser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncStream<SSEClient.Event>.Continuation
    let response: SSEResponseState
    private var raw: [UInt8] = []
    private var headDone = false
    /// The body's length when the head gave one (a response that is not a stream).
    private var contentLength: Int?
    private var body: [UInt8] = []

    init(continuation: AsyncStream<SSEClient.Event>.Continuation, response: SSEResponseState) {
        self.continuation = continuation
        self.response = response
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.raw.append(contentsOf: buffer.readableBytesView)
        if !self.headDone {
            guard let end = Self.find([13, 10, 13, 10], in: self.raw) else { return }
            // "HTTP/1.1 200 OK": the status is the second word of the first line.
            let head = String(decoding: self.raw[..<end], as: UTF8.self).split(separator: "\r\n")
            self.response.setStatus(head.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
            self.contentLength = head.lazy.compactMap { line -> Int? in
                guard line.lowercased().hasPrefix("content-length:") else { return nil }
                return Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces))
            }.first
            self.raw.removeFirst(end + 4)
            self.headDone = true
        }
        if let contentLength = self.contentLength {
            // Not chunked: the body ends after its length.
            if self.raw.count >= contentLength { self.response.setEnded() }
            return
        }
        // Chunks: <hex size>\r\n<bytes>\r\n
        while let lineEnd = Self.find([13, 10], in: self.raw) {
            guard let size = Int(String(decoding: self.raw[..<lineEnd], as: UTF8.self), radix: 16) else { break }
            guard self.raw.count >= lineEnd + 2 + size + 2 else { break }
            if size == 0 { self.response.setEnded() }
            self.body.append(contentsOf: self.raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
            self.raw.removeFirst(lineEnd + 2 + size + 2)
        }
        // Events: blocks separated by a blank line.
        while let end = Self.find([10, 10], in: self.body) {
            let block = String(decoding: self.body[..<end], as: UTF8.self)
            self.body.removeFirst(end + 2)
            if block.hasPrefix(": heartbeat") { self.response.addHeartbeat() }
            var event = SSEClient.Event(id: "", type: "", data: "")
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)) }
            }
            if !event.id.isEmpty { self.continuation.yield(event) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.continuation.finish()
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}

/// What an `SSEClient` has seen of the response: its status, its heartbeat comments, and whether
/// the body ended cleanly.
final class SSEResponseState: Sendable {
    private let state = Mutex<(status: Int?, heartbeats: Int, ended: Bool)>((nil, 0, false))
    func setStatus(_ status: Int?) { self.state.withLock { $0.status = status } }
    func addHeartbeat() { self.state.withLock { $0.heartbeats += 1 } }
    func setEnded() { self.state.withLock { $0.ended = true } }
    var status: Int? { self.state.withLock { $0.status } }
    /// Heartbeat comments received so far.
    var heartbeats: Int { self.state.withLock { $0.heartbeats } }
    var ended: Bool { self.state.withLock { $0.ended } }
}
