import Foundation
import Logging
import Synchronization
import Testing

@testable import SessionContextApp

@Suite("The access line: its duration, its rendering")
struct AccessLogTests {
    @Test("Milliseconds with two decimals, rounded as %.2f rounds them", arguments: [
        (Duration.zero, "0.00"), (.nanoseconds(4_999), "0.00"), (.nanoseconds(5_001), "0.01"), (.microseconds(213), "0.21"),
        (.microseconds(1_995) + .nanoseconds(1), "2.00"), (.milliseconds(12_345) + .microseconds(678), "12345.68"), (.seconds(3), "3000.00"),
    ])
    func milliseconds(duration: Duration, text: String) {
        #expect(AccessLine.milliseconds(duration) == text)
        let (seconds, attoseconds) = duration.components
        #expect(text == String(format: "%.2f", Double(seconds) * 1000 + Double(attoseconds) / 1e15))
    }

    /// A text handler's lines, each without its leading time (the second it was written).
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var write: @Sendable ([UInt8]) -> Void {
            { bytes in self.lines.withLock { $0.append(String(String(decoding: bytes, as: UTF8.self).drop { $0 != " " })) } }
        }
        var all: [String] { self.lines.withLock { $0 } }
    }

    static let line = AccessLine(
        method: .post, path: "/session-context/t1/context/s1/attributes", route: "/session-context/{tenant}/context/{sessionId}/attributes",
        status: .noContent, elapsed: .microseconds(1_234), requestId: "req-1", frameworkRequestId: "9f0e"
    )

    @Test("The text handler renders the line itself, byte for byte the line logger.info writes with the ids in the logger's metadata")
    func renderedAsLogged() {
        let rendered = Lines(), logged = Lines()
        let direct = Logger(label: "session-context") { TextLogHandler(label: $0, write: rendered.write) }
        Self.line.write(to: direct)
        var general = Logger(label: "session-context") { TextLogHandler(label: $0, write: logged.write) }
        general[metadataKey: "request_id"] = "req-1"
        general[metadataKey: "hb.request.id"] = "9f0e"
        general.info(
            "request",
            metadata: [
                "method": "POST", "path": "/session-context/t1/context/s1/attributes",
                "route": "/session-context/{tenant}/context/{sessionId}/attributes", "status": "204", "duration_ms": "1.23",
            ],
            source: "SessionContextApp"
        )
        #expect(rendered.all == [
            " info session-context: duration_ms=1.23 hb.request.id=9f0e method=POST path=/session-context/t1/context/s1/attributes"
                + " request_id=req-1 route=/session-context/{tenant}/context/{sessionId}/attributes status=204 [SessionContextApp] request\n",
        ])
        #expect(rendered.all == logged.all)
    }

    @Test("A handler with metadata of its own merges it in: the line goes through the logger, the line's items with it")
    func handlerMetadataMerged() {
        let lines = Lines()
        var logger = Logger(label: "session-context") { TextLogHandler(label: $0, write: lines.write) }
        logger[metadataKey: "worker"] = "w1"
        logger[metadataKey: "status"] = "overwritten"
        Self.line.write(to: logger)
        #expect(lines.all == [
            " info session-context: duration_ms=1.23 hb.request.id=9f0e method=POST path=/session-context/t1/context/s1/attributes"
                + " request_id=req-1 route=/session-context/{tenant}/context/{sessionId}/attributes status=204 worker=w1 [SessionContextApp] request\n",
        ])
        // And none below the logger's level.
        logger.logLevel = .warning
        Self.line.write(to: logger)
        #expect(lines.all.count == 1)
    }
}
