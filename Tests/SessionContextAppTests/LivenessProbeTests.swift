import Foundation
import HummingbirdTesting
import Testing

@testable import SessionContextApp
import TestSupport

/// `GET /health/live` answered in the channel pipeline (`PipelineResponder`), on a real worker
/// process: the same answer, access line and metrics as the routed one, pipelined answers in
/// order, the drain's `Connection: close`, and an idle timeout that still counts these requests.
@Suite("The liveness probe answered in the pipeline")
struct LivenessProbeTests {
    @Test("Same answer as the routed one: status, headers, body; the request id echoed or made; one access line and one count each")
    func sameAnswer() async throws {
        try await Self.withWorker { worker in
            let before = try await Self.liveCount(worker)
            let connection = try await RawConnection.open(port: worker.port)
            let reply = await connection.send(
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: probe-1\r\n\r\nGET /health/live?from=lb HTTP/1.1\r\nHost: x\r\n\r\n",
                until: { Self.parse($0).count == 2 }, timeout: .seconds(5)
            )
            #expect(connection.channel.isActive, "a kept-alive connection was closed")
            try? await connection.channel.close()

            let all = Self.parse(reply)
            try #require(all.count == 2, "\(reply)")
            for answer in all {
                #expect(answer.status == 200)
                #expect(answer.body == #"{"status":"ok"}"#)
                #expect(Set(answer.headers.keys) == ["content-type", "content-length", "x-request-id", "date"], "\(answer.headers)")
                #expect(answer.headers["content-type"] == "application/json")
                #expect(answer.headers["content-length"] == "15")
                #expect(answer.headers["date"].flatMap(Self.imfDate) != nil, "\(answer.headers)")
            }
            #expect(all[0].headers["x-request-id"] == "probe-1")
            let made = try #require(all[1].headers["x-request-id"])
            #expect(made != "probe-1" && !made.isEmpty)

            // The routed answer (a request that closes its connection goes to the router) has the same shape.
            let routed = Self.parse(try await RawConnection.open(port: worker.port).send(
                "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(5)
            ))
            try #require(routed.count == 1)
            #expect(routed[0].status == 200 && routed[0].body == all[0].body)
            #expect(Set(routed[0].headers.keys).subtracting(["connection"]) == Set(all[0].headers.keys))

            // One access line each, like the routed one, and three more requests counted.
            #expect(try await eventually(attempts: 50) {
                worker.log.contains("method=GET path=/health/live request_id=probe-1 route=/health/live status=200 [SessionContextApp] request")
                    && worker.log.contains("request_id=\(made) route=/health/live status=200")
            }, "\(worker.log.suffix(1000))")
            #expect(try await Self.liveCount(worker) == before + 3)
        }
    }

    @Test("Pipelined requests are answered in order when the router's answer to an earlier one is still due")
    func pipelinedOrder() async throws {
        try await Self.withWorker { worker in
            let connection = try await RawConnection.open(port: worker.port)
            let requests = [
                "GET /health/ready HTTP/1.1\r\nHost: x\r\nX-Request-Id: r1\r\n\r\n",
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: r2\r\n\r\n",
                "GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-Id: r3\r\n\r\n",
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: r4\r\nContent-Length: 5\r\n\r\nhello",
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: r5\r\n\r\n",
                "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: r6\r\nConnection: close\r\n\r\n",
            ]
            let answers = Self.parse(await connection.send(requests.joined(), timeout: .seconds(5)))
            #expect(answers.map(\.status) == [200, 200, 404, 200, 200, 200])
            #expect(answers.map { $0.headers["x-request-id"] ?? "-" } == ["r1", "r2", "r3", "r4", "r5", "r6"])
            #expect(answers.first?.body == #"{"status":"ready"}"#)
            #expect(answers.dropFirst().first?.body == #"{"status":"ok"}"#)
        }
    }

    @Test("While the worker drains, the probe's answer says Connection: close and its connection ends")
    func drain() async throws {
        try await Self.withWorker(["SESSION_CONTEXT_SHUTDOWN_DRAIN_MS": "3000"]) { worker in
            let connection = try await RawConnection.open(port: worker.port)
            let first = Self.parse(await connection.send(
                "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", until: { Self.parse($0).count == 1 }, timeout: .seconds(5)
            ))
            #expect(first.count == 1 && first.first?.headers["connection"] == nil)
            worker.terminate()
            #expect(try await eventually(attempts: 60) {
                try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { try await $0.get("/health/ready").status == .serviceUnavailable }
            })
            let reply = await connection.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(2))
            let answers = Self.parse(reply)
            #expect(answers.count == 2, "\(reply)")
            #expect(answers.last?.status == 200)
            #expect(answers.last?.headers["connection"] == "close")
            #expect(!connection.channel.isActive)
            #expect(await worker.waitForExit(timeout: 15) == 0)
        }
    }

    @Test("The idle timeout counts probes answered in the pipeline: kept open while they come, closed once they stop")
    func idleTimeout() async throws {
        try await Self.withWorker(["SESSION_CONTEXT_IDLE_TIMEOUT": "1"]) { worker in
            let connection = try await RawConnection.open(port: worker.port)
            for round in 1...5 {
                let reply = await connection.send(
                    "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", until: { Self.parse($0).count == round }, timeout: .seconds(2)
                )
                #expect(Self.parse(reply).count == round, "round \(round): \(reply.suffix(300))")
                #expect(connection.channel.isActive, "closed while probes came (round \(round))")
                try await Task.sleep(for: .milliseconds(400))
            }
            #expect(await connection.waitUntilClosed(timeout: .seconds(4)), "an idle connection stayed open past the idle timeout")
            try? await connection.channel.close()
        }
    }

    @Test("The Date header of the answers written in the pipeline is an IMF-fixdate, as Hummingbird writes it")
    func dateFormat() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_473_868) == "Sat, 05 Dec 2026 12:31:08 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }

    // MARK: helpers

    /// A worker logging at info (access lines), with `environment` on top.
    private static func withWorker(_ environment: [String: String] = [:], _ body: (WorkerProcess) async throws -> Void) async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: redis.url).merging(["SESSION_CONTEXT_LOG_LEVEL": "info"]) { $1 }
                .merging(environment) { $1 }
        )
        defer { Task { await worker.kill() } }
        try await body(worker)
    }

    /// The count of `GET /health/live` answered 200, from `/metrics`.
    private static func liveCount(_ worker: WorkerProcess) async throws -> Int {
        let text = try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client in
            try await client.get("/metrics").body.map { String(buffer: $0) } ?? ""
        }
        let prefix = #"hb_requests{http_route="/health/live",http_request_method="GET",http_response_status_code="200"} "#
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(line.dropFirst(prefix.count)) ?? -1
    }

    /// One HTTP/1.1 answer: status, headers (names lowercased), body (by Content-Length).
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// The answers in `text`, in order; a partial last one is left out.
    static func parse(_ text: String) -> [Answer] {
        var answers: [Answer] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<headEnd.lowerBound].components(separatedBy: "\r\n")
            guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "), let status = Int(statusLine.dropFirst(9).prefix(3)) else { break }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = headEnd.upperBound
            guard rest.utf8.distance(from: bodyStart, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length)
            answers.append(Answer(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return answers
    }

    /// `text` as an RFC 9110 IMF-fixdate (`Sat, 05 Dec 2026 12:31:08 GMT`), or nil.
    static func imfDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
