import Foundation
import TestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Prometheus
import NIOCore
import RedisClient
import SessionContextApp
import SessionStore
import Testing

/// Builds a worker for a test and the ids and tokens the test uses; every test gets its own
/// tenant, so tests sharing one Redis never see each other's keys or events.
struct Fixture: Sendable {
    static let secret = "test-secret-0123456789-abcdefghijklmnop"

    /// The test's own tenant.
    let tenant: String
    /// The Redis the worker uses.
    let endpoint: RedisEndpoint
    /// The worker's configuration.
    var configuration: ServiceConfiguration
    /// The registry `/metrics` shows, if any.
    var metrics: PrometheusCollectorRegistry?

    /// A fixture on the shared test Redis (or on `endpoint`).
    init(endpoint: RedisEndpoint? = nil, configure: (inout ServiceConfiguration) -> Void = { _ in }) throws {
        self.tenant = Self.uniqueTenant()
        self.endpoint = try endpoint ?? RedisServer.shared()
        var configuration = ServiceConfiguration()
        configuration.redisURL = try endpoint.map(Self.url(of:)) ?? RedisServer.sharedURL()
        configuration.jwtSecret = Self.secret
        configuration.port = 0
        configuration.redisTimeoutMilliseconds = 1000
        configuration.sseHeartbeatSeconds = 1
        // Tests share one Redis: a fixture's customer-index sweep stays within its own tenant.
        configuration.customerIndexSweepTenant = self.tenant
        configure(&configuration)
        self.configuration = configuration
    }

    /// A tenant name no other test uses.
    static func uniqueTenant() -> String {
        "t" + String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    /// A session id no other test uses.
    static func uniqueSessionId() -> String { UUID().uuidString.lowercased() }

    static func url(of endpoint: RedisEndpoint) -> String {
        guard case .tcp(let host, let port) = endpoint.address else { return "\(endpoint)" }
        return "redis://\(host):\(port)/\(endpoint.database)"
    }

    /// Runs `test` against the worker on a real loopback socket, one kept-alive connection, as
    /// clients reach it: through the channel pipeline, where the hot routes are answered
    /// (`PipelineResponder`), and the router behind it. The test starts once the worker is ready,
    /// as a load balancer would send it requests: on a loaded machine a worker's Redis connections
    /// (on a cluster, to each primary) can take longer to come up than its command timeout.
    func withApp<Value: Sendable>(_ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(self.configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), metrics: self.metrics)
        return try await app.test(.live) { client async throws in
            try await client.waitUntilReady()
            return try await test(client)
        }
    }

    // MARK: tokens

    /// A management token of this tenant.
    func managementToken(scope: String = "session_context.context_manage", tenant: String? = nil) async throws -> String {
        try await Tokens.sign(TokenClaims(tenant: tenant ?? self.tenant, expires: .in(3600), scope: scope))
    }

    /// A storefront token for session `sid`, anonymous or of `customerId`.
    func storefrontToken(sid: String, customerId: String? = nil, tenant: String? = nil) async throws -> String {
        try await Tokens.sign(TokenClaims(tenant: tenant ?? self.tenant, expires: .in(3600), sid: sid, customerId: customerId))
    }

    /// The Redis key of a session of this tenant.
    func key(_ sessionId: String) -> String { self.address(sessionId).key }

    /// The address of a session of this tenant, in the worker's layout.
    func address(_ sessionId: String) -> SessionAddress {
        SessionLayout(buckets: self.configuration.eventBuckets).address(tenant: self.tenant, sessionId: sessionId)
    }
}

extension ExpirationClaim {
    /// Expires `seconds` from now.
    static func `in`(_ seconds: TimeInterval) -> ExpirationClaim { ExpirationClaim(value: Date().addingTimeInterval(seconds)) }
}

/// Signs test tokens.
enum Tokens {
    static func sign(_ claims: TokenClaims, secret: String = Fixture.secret) async throws -> String {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// base64url without padding.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// An unsigned token with `alg: none`.
    static func unsigned(tenant: String, scope: String = "session_context.context_manage") -> String {
        let header = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let exp = Int(Date().timeIntervalSince1970) + 3600
        let payload = base64URL(Data(#"{"tenant":"\#(tenant)","exp":\#(exp),"scope":"\#(scope)"}"#.utf8))
        return "\(header).\(payload)."
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body.
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        token: String? = nil,
        json: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        let response = try await self.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        // Every response a test sees must be one the OpenAPI document describes.
        for problem in OpenAPIContract.shared.problems(
            method: method, uri: path, status: Int(response.status.code), body: Array(response.body.readableBytesView)
        ) {
            Issue.record(Comment(rawValue: "OpenAPI: \(problem)"))
        }
        return response
    }

    /// Waits until the worker is ready: its Redis pool has a connection. A worker just started
    /// answers 503 until then (after its command timeout), which on a loaded machine can be the
    /// first request's answer. Asks up to 100 times, 50 ms apart.
    func waitUntilReady() async throws {
        let ready = try await eventually { try await self.send(.get, "/health/ready").status == .ok }
        #expect(ready, "the worker did not become ready")
    }
}

extension TestResponse {
    /// The body parsed as JSON.
    var json: JSONValue {
        get throws { try JSONParser().parse(self.body.readableBytesView) }
    }
}

extension JSONValue {
    /// The string value, if this is a string.
    var stringValue: String? { if case .string(let text) = self { return text } else { return nil } }
    /// The integer value, if this is an integer number.
    var intValue: Int64? { if case .number(let literal) = self { return Int64(literal) } else { return nil } }
    /// Member names of an object, in order.
    var memberNames: [String] { if case .object(let members) = self { return members.map(\.name) } else { return [] } }
}
