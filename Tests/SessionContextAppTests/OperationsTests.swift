import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import SessionContextApp
import SessionStore
import Testing

@Suite("Operations: OpenAPI, metrics, request ids")
struct OperationsTests {
    /// swift-metrics can be bootstrapped once per process: the tests share this registry.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    @Test("GET /openapi.json serves an OpenAPI 3.1 document with every operation of the contract")
    func openAPIDocument() async throws {
        let fixture = try Fixture()
        try await fixture.withApp { client async throws in
            let response = try await client.send(.get, "/openapi.json")
            #expect(response.status == .ok)
            let document = try JSONParser(maximumDepth: 64).parse(response.body.readableBytesView)
            #expect(document[member: "openapi"]?.stringValue == "3.1.0")
            let operations = ["getContext", "replaceContext", "deleteContext", "setAttribute", "deleteAttribute", "getMyContext", "patchMyContext", "setMyAttribute", "deleteMyAttribute", "live", "ready", "streamEvents", "openapi", "metrics", "listCustomerContexts", "endCustomerSessions"]
            var found: [String] = []
            if case .object(let paths)? = document[member: "paths"] {
                for (_, item) in paths {
                    for method in ["get", "put", "post", "patch", "delete"] {
                        if let id = item[member: method]?[member: "operationId"]?.stringValue { found.append(id) }
                    }
                }
            }
            #expect(found.sorted() == operations.sorted())
        }
    }

    @Test("The contract check catches responses the document does not describe")
    func contractCheckCanFail() {
        let contract = OpenAPIContract.shared
        #expect(!contract.problems(method: .get, uri: "/session-context/acme/context/s1", status: 418, body: []).isEmpty)
        #expect(!contract.problems(method: .get, uri: "/session-context/acme/context/s1", status: 200, body: Array(#"{"sessionId":"s1"}"#.utf8)).isEmpty)
        #expect(!contract.problems(method: .get, uri: "/session-context/acme/context/s1", status: 200, body: Array(#"{"sessionId":"s1","context":{},"metadata":{"version":"1"}}"#.utf8)).isEmpty)
        #expect(!contract.problems(method: .get, uri: "/session-context/acme/context/s1", status: 200, body: Array(#"{"sessionId":"s1","context":{"a":5},"metadata":{"version":1}}"#.utf8)).isEmpty)
        #expect(contract.problems(method: .get, uri: "/session-context/acme/context/s1", status: 200, body: Array(#"{"sessionId":"s1","context":{"a":{"b":5}},"metadata":{"version":1}}"#.utf8)).isEmpty)
        #expect(!contract.problems(method: .delete, uri: "/session-context/acme/context/s1", status: 204, body: Array("x".utf8)).isEmpty)
    }

    @Test("/metrics shows requests by route and status, Redis commands and events")
    func metrics() async throws {
        let registry = Self.registry
        var configured = try Fixture()
        configured.metrics = registry
        let fixture = configured
        let sid = Fixture.uniqueSessionId()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: sid)
            _ = try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(sid)", token: token)
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.contains("session_context_events_published_total{type=\"created\"}"))
            #expect(text.contains("redis_commands_total"))
            #expect(text.contains("redis_command_duration_seconds_bucket"))
            #expect(text.contains("/session-context/{tenant}/context/{sessionId}") || text.contains("/session-context/:tenant/context/:sessionId"))
            #expect(text.contains("http_server_request_duration_bucket") || text.contains("http_server_request_duration_seconds_bucket"))
        }
    }

    @Test("Every response carries a request id: the caller's when sane, else a new one")
    func requestIds() async throws {
        let fixture = try Fixture()
        try await fixture.withApp { client async throws in
            let echoed = try await client.send(.get, "/health/live", headers: [HTTPField.Name("X-Request-Id")!: "abc-123"])
            #expect(echoed.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
            let made = try await client.send(.get, "/health/live", headers: [HTTPField.Name("X-Request-Id")!: "bad id\u{7}"])
            let id = try #require(made.headers[HTTPField.Name("X-Request-Id")!])
            #expect(!id.isEmpty && id != "bad id\u{7}")
        }
    }
}
