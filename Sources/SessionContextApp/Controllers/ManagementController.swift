import HTTPTypes
import Hummingbird
import SessionStore

/// The management side: `/session-context/{tenant}/context/{sessionId}…`, for client-credentials
/// tokens with the manage scope.
struct ManagementController {
    typealias Context = AppRequestContext

    let store: SessionStore
    let verifier: TokenVerifier
    let bodyLimit: Int
    let maximumValueBytes: Int

    /// The routes, relative to `/session-context/:tenant`.
    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("context", use: self.listOfCustomer)
        routes.delete("context", use: self.endAllOfCustomer)
        routes.get("context/:sessionId", use: self.get)
        routes.put("context/:sessionId", use: self.replace)
        routes.delete("context/:sessionId", use: self.delete)
        routes.post("context/:sessionId/attributes", use: self.setAttribute)
        routes.delete("context/:sessionId/attributes/:attributeName", use: self.deleteAttribute)
        return routes
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        .json(try await Self.contextJSON(at: self.address(context), in: self.store))
    }

    /// The body of `GET /context/{sessionId}`: the context at `address` as JSON; throws 404 when
    /// there is none (also what ``PipelineResponder`` answers with).
    static func contextJSON(at address: SessionAddress, in store: SessionStore) async throws -> ByteBuffer {
        guard let snapshot = try await store.read(address) else { throw APIError.sessionNotFound(address.sessionId) }
        return snapshot.renderJSON()
    }

    /// `GET /context?customerId=C`: the customer's live session contexts, as a JSON array.
    @Sendable func listOfCustomer(_ request: Request, context: Context) async throws -> Response {
        let tenant = try context.verifiedIdentity.tenant
        let customerId = try Self.customerId(request)
        let snapshots = try await self.store.sessions(ofCustomer: customerId, tenant: tenant)
        var body = ByteBuffer()
        body.writeStaticString("[")
        for (offset, snapshot) in snapshots.enumerated() {
            if offset > 0 { body.writeStaticString(",") }
            var json = snapshot.renderJSON()
            body.writeBuffer(&json)
        }
        body.writeStaticString("]")
        return .json(body)
    }

    /// `DELETE /context?customerId=C`: ends every live session of the customer (log out
    /// everywhere); 204 whether or not there were any. Each ended session publishes `deleted`.
    @Sendable func endAllOfCustomer(_ request: Request, context: Context) async throws -> Response {
        let tenant = try context.verifiedIdentity.tenant
        let customerId = try Self.customerId(request)
        let ended = try await self.store.endSessions(ofCustomer: customerId, tenant: tenant)
        var response = Response(status: .noContent)
        response.headers[HTTPField.Name("Sessions-Ended")!] = String(ended.count)
        return response
    }

    /// The `customerId` query parameter, checked like the field.
    private static func customerId(_ request: Request) throws -> String {
        guard let value = request.uri.queryParameters["customerId"] else {
            throw APIError.badRequest("customerId is required: GET or DELETE /context?customerId=<customer id>")
        }
        let customerId = String(value)
        if let problem = StandardField.customerId.problem(with: customerId) {
            throw APIError.badRequest("customerId \(problem)")
        }
        return customerId
    }

    @Sendable func replace(_ request: Request, context: Context) async throws -> Response {
        let address = try self.address(context)
        let upsert: Bool
        switch request.uri.queryParameters["upsert"] {
        case nil, "false": upsert = false
        case "true": upsert = true
        default: throw APIError.badRequest("upsert must be true or false")
        }
        let saasCustomer = try await self.saasCustomer(request, tenant: address.tenant)
        let replacement = try SessionReplacement(
            body: try await request.jsonBody(limit: self.bodyLimit), sessionId: address.sessionId, maximumValueBytes: self.maximumValueBytes
        )
        let outcome = try await self.store.replace(address, with: replacement, upsert: upsert, saasCustomer: saasCustomer)
        return try outcome.response(
            sessionId: address.sessionId,
            forbidden: "this session context belongs to a customer: the saas-token header must carry that customer's token"
        )
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let address = try self.address(context)
        return try await self.store.delete(address).response(sessionId: address.sessionId, forbidden: "", versioned: false)
    }

    @Sendable func setAttribute(_ request: Request, context: Context) async throws -> Response {
        let address = try self.address(context)
        let version = try await Self.setAttribute(
            try await request.jsonBody(limit: self.bodyLimit), at: address, in: self.store, maximumValueBytes: self.maximumValueBytes
        )
        var response = Response.noContent
        response.headers[.eTag] = SessionWriteOutcome.eTag(version)
        return response
    }

    /// `POST /context/{sessionId}/attributes` with the JSON `body`: sets the attribute of the
    /// context at `address` and returns the context's version afterwards (answered 204 with it as
    /// `ETag`); throws the contract's error (also what ``PipelineResponder`` answers with).
    static func setAttribute(
        _ body: JSONValue, at address: SessionAddress, in store: SessionStore, maximumValueBytes: Int
    ) async throws -> Int64 {
        let attribute = try SessionAttribute(body: body, maximumValueBytes: maximumValueBytes)
        return try await store.setAttribute(address, name: attribute.name, json: attribute.json, caller: .management)
            .version(sessionId: address.sessionId, forbidden: "")
    }

    @Sendable func deleteAttribute(_ request: Request, context: Context) async throws -> Response {
        let address = try self.address(context)
        let name = try context.pathAttributeName()
        return try await self.store.deleteAttribute(address, name: name, caller: .management)
            .response(sessionId: address.sessionId, forbidden: "")
    }

    private func address(_ context: Context) throws -> SessionAddress {
        self.store.address(tenant: try context.verifiedIdentity.tenant, sessionId: try context.pathSessionId())
    }

    /// The customer of a `saas-token` header: it must be a valid customer token of the same tenant.
    private func saasCustomer(_ request: Request, tenant: String) async throws -> String? {
        guard let value = request.headers[HTTPField.Name("saas-token")!] else { return nil }
        let claims: TokenClaims
        do {
            // `Bearer <token>` as in an Authorization header, or the bare token.
            if let bearer = try await self.verifier.verify(authorization: value) {
                claims = bearer
            } else {
                claims = try await self.verifier.verify(value)
            }
        } catch let error as TokenVerifier.Failure {
            throw APIError.forbidden("the saas-token is not a valid token: \(error.message)")
        } catch {
            throw APIError.forbidden("the saas-token is not a valid token")
        }
        guard claims.tenant == tenant else { throw APIError.forbidden("the saas-token is for another tenant") }
        guard let customerId = claims.customerId, !customerId.isEmpty else {
            throw APIError.forbidden("the saas-token is not a customer token")
        }
        return customerId
    }
}
