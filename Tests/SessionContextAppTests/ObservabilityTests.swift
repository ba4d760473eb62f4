import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Prometheus
import SessionContextApp
import Synchronization
import TestSupport
import Testing

@Suite("Observability: text log lines, request metrics")
struct ObservabilityTests {
    /// Collects what a log handler writes.
    final class Capture: TextOutputStream, Sendable {
        private let text = Mutex("")
        func write(_ string: String) { self.text.withLock { $0 += string } }
        var lines: [String] { self.text.withLock { $0.split(separator: "\n").map(String.init) } }
    }

    @Test("The text handler writes StreamLogHandler's lines byte for byte, the logger's metadata rendered when a line is written")
    func textLines() {
        let expected = Capture(), written = Capture()
        var stream = Logger(label: "worker") { StreamLogHandler(label: $0, stream: expected, metadataProvider: nil) }
        let write: @Sendable ([UInt8]) -> Void = { written.write(String(decoding: $0, as: UTF8.self)) }
        var text = Logger(label: "worker") { TextLogHandler(label: $0, write: write) }
        stream[metadataKey: "request_id"] = "r-1"
        text[metadataKey: "request_id"] = "r-1"
        stream[metadataKey: "hb.request.id"] = "7"
        text[metadataKey: "hb.request.id"] = "7"
        for logger in [stream, text] {
            logger.info("request", metadata: ["status": "200", "request_id": "r-2"])
            logger.debug("below the level")
        }
        let plain = Logger(label: "worker") { TextLogHandler(label: $0, write: write) }
        plain.info("no metadata")
        // A line starts with the second it was written: compare what follows.
        let tail = { (line: String) in String(line.drop { $0 != " " }) }
        #expect(expected.lines.count == 1)
        #expect(written.lines.map(tail) == [
            " info worker: hb.request.id=7 request_id=r-2 status=200 [SessionContextAppTests] request",
            " info worker: [SessionContextAppTests] no metadata",
        ])
        #expect(written.lines.first.map(tail) == expected.lines.first.map(tail))
        // The time in the same format: local time with the zone's offset, to the second.
        let time = { (line: String) in String(line.prefix { $0 != " " }) }
        #expect(written.lines.first.map(time)?.count == expected.lines.first.map(time)?.count)
        #expect(written.lines.first.map(time)?.count == "2026-12-04T15:16:16+0000".count)
    }

    @Test("Requests are counted and timed once by route and status, whether the body's length is known or streamed")
    func requestMetrics() async throws {
        let registry = OperationsTests.registry
        let (router, prefix) = Self.meteredRouter()
        router.get("\(prefix)/known") { _, _ in "hello" }
        router.get("\(prefix)/stream") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "a"))
                try await writer.write(ByteBuffer(string: "b"))
                try await writer.finish(nil)
            })
        }
        router.get("\(prefix)/refused") { _, _ -> String in throw HTTPError(.conflict) }
        try await Application(router: router).test(.router) { client in
            let known = try await client.execute(uri: "\(prefix)/known", method: .get)
            #expect(String(buffer: known.body) == "hello")
            #expect(known.headers[.contentLength] == "5")
            let streamed = try await client.execute(uri: "\(prefix)/stream", method: .get)
            #expect(String(buffer: streamed.body) == "ab")
            _ = try await client.execute(uri: "\(prefix)/known", method: .get)
            let refused = try await client.execute(uri: "\(prefix)/refused", method: .get)
            #expect(refused.status == .conflict)
        }
        let value = { (metric: String, route: String) in Self.values(of: metric, route: "\(prefix)/\(route)", in: registry) }
        #expect(value("hb_requests", "known") == ["2"])
        #expect(value("hb_requests", "stream") == ["1"])
        #expect(value("hb_requests", "refused") == ["1"])
        #expect(value("hb_request_errors", "refused") == ["1"])
        #expect(value("hb_request_errors", "known") == ["0"])
        #expect(value("http_server_request_duration_count", "known") == ["2"])
        #expect(value("http_server_request_duration_count", "stream") == ["1"])
    }

    @Test("A streamed response whose client left before its head went out is still counted when it is dropped")
    func droppedStreamedBody() async throws {
        let registry = OperationsTests.registry
        let (router, prefix) = Self.meteredRouter()
        let route = "\(prefix)/slow"
        router.get(RouterPath(route)) { _, _ in
            // Long enough for the server to see the connection reset before the head is written.
            try? await Task.sleep(for: .milliseconds(300))
            return Response(status: .ok, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "late"))
                try await writer.finish(nil)
            })
        }
        try await Application(router: router).test(.live) { client in
            let port = try #require(client.port)
            // A client that sends the request and resets the connection at once (SO_LINGER 0).
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            try await #require(channel as? any SocketOptionProvider).setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            try await channel.writeAndFlush(ByteBuffer(string: "GET \(route) HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            try await channel.close()
            try await eventually(attempts: 40) { Self.values(of: "hb_requests", route: route, in: registry) == ["1"] }
        }
        #expect(Self.values(of: "hb_requests", route: route, in: registry) == ["1"])
        #expect(Self.values(of: "http_server_request_duration_count", route: route, in: registry) == ["1"])
    }

    /// A router with only the request metrics middleware, and a path prefix of its own for the
    /// routes a test adds (the metrics registry is shared by the tests running in parallel).
    static func meteredRouter() -> (Router<BasicRequestContext>, String) {
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        return (router, "/observability-\(UUID().uuidString.prefix(8).lowercased())")
    }

    /// The values of `metric`'s series for `route` in what `registry` exports.
    static func values(of metric: String, route: String, in registry: PrometheusCollectorRegistry) -> [String] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix(metric + "{") && $0.contains("\"\(route)\"") }
            .map { String($0.split(separator: " ").last ?? "") }
    }
}
