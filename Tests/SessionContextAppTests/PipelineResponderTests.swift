import Foundation
import HummingbirdTesting
import SessionStore
import Testing

@testable import SessionContextApp
import TestSupport

/// `GET /health/live` and the management read answered in the channel pipeline
/// (`PipelineResponder`), on a real worker process: the same answers, access lines and metrics as
/// the routed ones, the router's answer whenever the read is refused or fails, pipelined answers
/// in order (also around writes), the drain's `Connection: close`, and an idle timeout that still
/// counts these requests.
@Suite("Requests answered in the pipeline")
struct PipelineResponderTests {
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
            // The routed line's metadata, Hummingbird's request id included.
            let line = worker.log.split(separator: "\n").first { $0.contains("request_id=probe-1") } ?? ""
            #expect(line.contains(" info session-context: duration_ms=") && line.contains(" hb.request.id="), "\(line)")
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

    @Test("The management read: the routed answer's bytes, access line and count")
    func contextRead() async throws {
        try await Self.withWorker { worker in
            let (tenant, token) = try await Self.tenantAndToken()
            let path = "/session-context/\(tenant)/context/read-1"
            try await Self.upsert(worker, path: path, token: token)
            let before = try await Self.count(worker, route: "/session-context/{tenant}/context/{sessionId}")
            let connection = try await RawConnection.open(port: worker.port)
            let get = "GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
            let reply = await connection.send(
                get + "X-Request-Id: read-a\r\n\r\n" + get + "\r\n", until: { Self.parse($0).count == 2 }, timeout: .seconds(5)
            )
            #expect(connection.channel.isActive)
            try? await connection.channel.close()
            let answers = Self.parse(reply)
            try #require(answers.count == 2, "\(reply)")
            let routed = Self.parse(try await RawConnection.open(port: worker.port).send(get + "Connection: close\r\n\r\n", timeout: .seconds(5)))
            try #require(routed.count == 1)
            for answer in answers {
                #expect(answer.status == 200)
                #expect(answer.body == routed[0].body)
                #expect(answer.body.contains(#""sessionId":"read-1","siteCode":"main","context":{"a":"1"}"#), "\(answer.body)")
                #expect(Set(answer.headers.keys) == Set(routed[0].headers.keys).subtracting(["connection"]), "\(answer.headers)")
                #expect(answer.headers["content-type"] == "application/json")
            }
            #expect(answers[0].headers["x-request-id"] == "read-a")
            #expect(try await eventually(attempts: 50) {
                worker.log.contains("method=GET path=\(path) request_id=read-a route=/session-context/{tenant}/context/{sessionId} status=200")
            }, "\(worker.log.suffix(1000))")
            #expect(try await Self.count(worker, route: "/session-context/{tenant}/context/{sessionId}") == before + 3)
        }
    }

    @Test("A read the token check refuses, of a session that does not exist, or while Redis is down gets the router's error answer, in order")
    func contextFallbacks() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(environment: WorkerProcessTests.environment(redis: redis.url))
        defer { Task { await worker.kill() } }
        let (tenant, token) = try await Self.tenantAndToken()
        let other = try await Tokens.sign(TokenClaims(tenant: Fixture.uniqueTenant(), expires: .in(3600), scope: "session_context.context_manage"))
        let unscoped = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "something_else"))
        let path = "/session-context/\(tenant)/context/fallback-1"
        try await Self.upsert(worker, path: path, token: token)
        let requests = [
            (token, "/session-context/\(tenant)/context/none", 404),
            ("x" + token, path, 401),
            (other, path, 403),
            (unscoped, path, 403),
            (token, path, 200),
            (token, "/session-context/\(tenant)/context/none", 404),
        ]
        let text = requests.enumerated().map { index, request in
            "GET \(request.1) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(request.0)\r\nX-Request-Id: f\(index)\r\n\r\n"
        }.joined()
        let connection = try await RawConnection.open(port: worker.port)
        let answers = Self.parse(await connection.send(text, until: { Self.parse($0).count == requests.count }, timeout: .seconds(5)))
        #expect(answers.map(\.status) == requests.map(\.2))
        #expect(answers.map { $0.headers["x-request-id"] ?? "-" } == (0..<requests.count).map { "f\($0)" })
        for answer in answers where answer.status != 200 {
            #expect(answer.body.contains(#""code":\#(answer.status)"#), "\(answer.body)")
        }
        #expect(answers.first?.body.contains(#""sessionId":"none""#) == true)

        // Redis gone: the router's 503, soon, and the connection still serves.
        redis.stop()
        let start = ContinuousClock.now
        let write = #"{"key":"b","value":"1"}"#
        let down = Self.parse(await connection.send(
            "GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
                + "POST \(path)/attributes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(write.utf8.count)\r\n\r\n\(write)GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n",
            until: { Self.parse($0).count == requests.count + 3 }, timeout: .seconds(10)
        )).dropFirst(requests.count)
        #expect(down.map(\.status) == [503, 503, 200])
        #expect(down.prefix(2).allSatisfy { $0.headers["retry-after"] == "1" && $0.body.contains(#""code":503"#) })
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(worker.isRunning)
    }

    @Test("The storefront read: the routed answer's bytes and count; a token without sid, or an unknown session, gets the router's answer")
    func storefrontRead() async throws {
        try await Self.withWorker { worker in
            let (tenant, token) = try await Self.tenantAndToken()
            try await Self.upsert(worker, path: "/session-context/\(tenant)/context/me-1", token: token)
            let me = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), sid: "me-1"))
            let stranger = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), sid: "me-none"))
            let route = "/session-context/{tenant}/me/context"
            let before = try await Self.count(worker, route: route)
            let get = { (token: String) in "GET /session-context/\(tenant)/me/context HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n" }
            let connection = try await RawConnection.open(port: worker.port)
            let answers = Self.parse(await connection.send(
                get(me) + "\r\n" + get(token) + "\r\n" + get(stranger) + "\r\n" + get(me) + "X-Request-Id: me-b\r\n\r\n",
                until: { Self.parse($0).count == 4 }, timeout: .seconds(5)
            ))
            #expect(answers.map(\.status) == [200, 403, 404, 200])
            let routed = Self.parse(try await RawConnection.open(port: worker.port).send(get(me) + "Connection: close\r\n\r\n", timeout: .seconds(5)))
            try #require(routed.count == 1 && answers.count == 4)
            #expect(routed[0].status == 200 && answers[0].body == routed[0].body)
            #expect(answers[0].body.contains(#""sessionId":"me-1""#))
            #expect(Set(answers[3].headers.keys) == Set(routed[0].headers.keys).subtracting(["connection"]))
            #expect(try await eventually(attempts: 50) {
                worker.log.contains("request_id=me-b route=\(route) status=200")
            })
            #expect(try await Self.count(worker, route: route) == before + 3)
        }
    }

    @Test("The set-attribute POST: the routed answer's status, ETag and headers, the attribute stored, one event per change, errors as the router answers them")
    func attributeWrite() async throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let worker = try await WorkerProcess.start(
            environment: WorkerProcessTests.environment(redis: redis.url).merging(["SESSION_CONTEXT_LOG_LEVEL": "info"]) { $1 }
        )
        defer { Task { await worker.kill() } }
        let (tenant, token) = try await Self.tenantAndToken()
        let path = "/session-context/\(tenant)/context/write-1"
        try await Self.upsert(worker, path: path, token: token)  // version 1
        let collector = try await EventCollector.subscribe(endpoint: redis.endpoint, tenant: tenant)
        let route = "/session-context/{tenant}/context/{sessionId}/attributes"
        let before = try await Self.count(worker, route: route, method: "POST", status: 204)
        let post = { (path: String, token: String, body: String, extra: String) in
            "POST \(path)/attributes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
        }
        let requests = [
            post(path, token, #"{"key":"b","value":"1"}"#, "X-Request-Id: w1\r\n"),
            post(path, token, #"{"key":"b","value":"1"}"#, ""),  // the same value: unchanged, no event
            post(path, token, #"{"key":"b","value":{"deep":[2]}}"#, ""),
            post(path, token, #"{"key":"b","value":"#, ""),  // not JSON: 400, nothing changed
            post(path, token, #"{"value":"1"}"#, ""),  // no key: 400
            post("/session-context/\(tenant)/context/write-none", token, #"{"key":"b","value":"1"}"#, ""),
            post(path, "x" + token, #"{"key":"b","value":"2"}"#, ""),
            "GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n",
        ]
        let connection = try await RawConnection.open(port: worker.port)
        let answers = Self.parse(await connection.send(requests.joined(), until: { Self.parse($0).count == requests.count }, timeout: .seconds(5)))
        #expect(connection.channel.isActive)
        try #require(answers.count == requests.count)
        #expect(answers.map(\.status) == [204, 204, 204, 400, 400, 404, 401, 200])
        #expect(answers.prefix(3).map { $0.headers["etag"] ?? "-" } == [#""2""#, #""2""#, #""3""#])
        #expect(answers[0].headers["x-request-id"] == "w1")
        #expect(answers[5].body.contains(#""sessionId":"write-none""#), "\(answers[5].body)")
        #expect(answers[6].headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(answers[7].body.contains(#""context":{"a":"1","b":{"deep":[2]}}"#), "\(answers[7].body)")
        #expect(answers[7].body.contains(#""version":3"#), "\(answers[7].body)")

        // The routed answers (a request closing its connection goes to the router) have the same shape.
        var routed: [Answer] = []
        for request in [post(path, token, #"{"key":"c","value":"3"}"#, "Connection: close\r\n"), post(path, token, #"{"key":"b","value":"#, "Connection: close\r\n")] {
            routed += Self.parse(try await RawConnection.open(port: worker.port).send(request, timeout: .seconds(5)))
        }
        try #require(routed.count == 2)
        #expect(routed.map(\.status) == [204, 400])
        #expect(routed[0].headers["etag"] == #""4""#)
        #expect(Set(routed[0].headers.keys).subtracting(["connection"]) == Set(answers[0].headers.keys), "\(routed[0].headers) against \(answers[0].headers)")
        #expect(Set(routed[1].headers.keys).subtracting(["connection"]) == Set(answers[3].headers.keys))
        #expect(routed[1].body == answers[3].body)

        // One event for each change (versions 2, 3, 4), none for the unchanged write or a refused one.
        let events = try await collector.collect(until: { $0[member: "version"]?.intValue == 4 })
        #expect(events.map { $0[member: "type"]?.stringValue ?? "" } == ["attribute.set", "attribute.set", "attribute.set"])
        #expect(events.map { $0[member: "version"]?.intValue ?? -1 } == [2, 3, 4])
        #expect(events.first?[member: "changed"] == .array([.string("context.b")]))

        #expect(try await eventually(attempts: 50) {
            worker.log.contains("method=POST path=\(path)/attributes request_id=w1 route=\(route) status=204")
        }, "\(worker.log.suffix(1000))")
        #expect(try await Self.count(worker, route: route, method: "POST", status: 204) == before + 4)
        #expect(try await Self.count(worker, route: route, method: "POST", status: 400) == 3)
    }

    @Test("A broken body on a request taken here, or on one that waited behind a read, gets the API's JSON 400")
    func brokenBodies() async throws {
        try await Self.withWorker { worker in
            let (tenant, token) = try await Self.tenantAndToken()
            let path = "/session-context/\(tenant)/context/broken-1"
            try await Self.upsert(worker, path: path, token: token)
            let auth = "Host: x\r\nAuthorization: Bearer \(token)\r\n"
            let cases = [
                ("probe", "GET /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", [400]),
                ("read", "GET \(path) HTTP/1.1\r\n\(auth)Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", [400]),
                ("write behind a read",
                 "GET \(path) HTTP/1.1\r\n\(auth)\r\nPOST \(path)/attributes HTTP/1.1\r\n\(auth)Content-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", [200, 400]),
            ]
            for (name, text, statuses) in cases {
                let answers = Self.parse(try await RawConnection.open(port: worker.port).send(text, timeout: .seconds(5)))
                #expect(answers.map(\.status) == statuses, "\(name)")
                #expect(answers.last?.body.contains(#""code":400"#) == true, "\(name): \(answers.last?.body ?? "")")
                #expect(answers.last?.headers["content-type"] == "application/json", "\(name)")
            }
            // Nothing was written: the context still has no attribute b, and the worker serves.
            let after = Self.parse(try await RawConnection.open(port: worker.port).send(
                "GET \(path) HTTP/1.1\r\n\(auth)Connection: close\r\n\r\n", timeout: .seconds(5)
            ))
            #expect(after.first?.status == 200 && after.first?.body.contains(#""b":"#) == false)
        }
    }

    @Test("Reads pipelined around writes see each write in order, on one connection")
    func pipelinedAroundWrites() async throws {
        try await Self.withWorker { worker in
            let (tenant, token) = try await Self.tenantAndToken()
            let path = "/session-context/\(tenant)/context/order-1"
            try await Self.upsert(worker, path: path, token: token)
            let auth = "Host: x\r\nAuthorization: Bearer \(token)\r\n"
            var text = ""
            var expected: [String] = []  // the value of attribute b each GET must show ("-": none)
            for round in 1...10 {
                text += "GET \(path) HTTP/1.1\r\n\(auth)\r\n"
                expected.append(round == 1 ? "-" : "\(round - 1)")
                let body = #"{"key":"b","value":"\#(round)"}"#
                text += "POST \(path)/attributes HTTP/1.1\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                text += "GET \(path) HTTP/1.1\r\n\(auth)\r\n"
                expected.append("\(round)")
            }
            let connection = try await RawConnection.open(port: worker.port)
            let answers = Self.parse(await connection.send(text, until: { Self.parse($0).count == 30 }, timeout: .seconds(10)))
            try #require(answers.count == 30)
            let reads = answers.enumerated().filter { $0.offset % 3 != 1 }.map(\.element)
            #expect(reads.allSatisfy { $0.status == 200 })
            let seen = reads.map { answer -> String in
                guard let range = answer.body.range(of: #""b":""#) else { return "-" }
                return String(answer.body[range.upperBound...].prefix { $0 != "\"" })
            }
            #expect(seen == expected)
            #expect(answers.enumerated().filter { $0.offset % 3 == 1 }.allSatisfy { $0.element.status == 200 || $0.element.status == 201 || $0.element.status == 204 })
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
        // Started means live; ready (the session layout checked) may come a moment later.
        #expect(try await eventually(attempts: 100) {
            try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { try await $0.get("/health/ready").status == .ok }
        })
        try await body(worker)
    }

    /// The count of `GET /health/live` answered 200, from `/metrics`.
    private static func liveCount(_ worker: WorkerProcess) async throws -> Int {
        try await self.count(worker, route: "/health/live")
    }

    /// The count of requests of `route` with `method` answered `status`, from `/metrics`.
    private static func count(_ worker: WorkerProcess, route: String, method: String = "GET", status: Int = 200) async throws -> Int {
        let text = try await TestClient.withClient(host: "127.0.0.1", port: worker.port) { client in
            try await client.get("/metrics").body.map { String(buffer: $0) } ?? ""
        }
        let prefix = #"hb_requests{http_route="\#(route)",http_request_method="\#(method)",http_response_status_code="\#(status)"} "#
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(line.dropFirst(prefix.count)) ?? -1
    }

    /// A new tenant and a management token of it.
    private static func tenantAndToken() async throws -> (String, String) {
        let tenant = Fixture.uniqueTenant()
        return (tenant, try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage")))
    }

    /// Creates the context at `path` (`{"a":"1"}`, site `main`) through the API.
    private static func upsert(_ worker: WorkerProcess, path: String, token: String) async throws {
        let body = #"{"siteCode":"main","context":{"a":"1"},"metadata":{"version":0}}"#
        let request = "PUT \(path)?upsert=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let answers = Self.parse(try await RawConnection.open(port: worker.port).send(request, timeout: .seconds(5)))
        try #require(answers.first.map { (200..<300).contains($0.status) } == true, "upsert: \(answers.first?.status ?? 0)")
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
