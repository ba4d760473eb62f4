import Hummingbird
import NIOCore
import SessionStore

/// The storefront side: `/session-context/{tenant}/me/context…`, for customer and anonymous
/// tokens; the session id comes from the token's `sid`.
struct StorefrontController {
    typealias Context = AppRequestContext

    let store: SessionStore
    let bodyLimit: Int
    let maximumValueBytes: Int

    /// The routes, relative to `/session-context/:tenant`.
    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("me/context", use: self.get)
        routes.patch("me/context", use: self.merge)
        routes.post("me/context/attributes", use: self.setAttribute)
        routes.delete("me/context/attributes/:attributeName", use: self.deleteAttribute)
        return routes
    }

    private static let otherCustomer = "this session context belongs to another customer"

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        .json(try await Self.contextJSON(of: context.verifiedIdentity, in: self.store))
    }

    /// The body of `GET /me/context`: the caller's context as JSON, its idle clock restarted;
    /// throws 404 or 403 (also what ``PipelineResponder`` answers with).
    static func contextJSON(of identity: Identity, in store: SessionStore) async throws -> ByteBuffer {
        // The auth middleware has checked that the token carries a valid sid.
        let address = store.address(tenant: identity.tenant, sessionId: identity.claims.sid ?? "")
        switch try await store.readAndTouch(address, caller: identity.storefrontCaller) {
        case .found(let snapshot): return snapshot.renderJSON()
        case .notFound: throw APIError.sessionNotFound(address.sessionId)
        case .forbidden: throw APIError.forbidden(Self.otherCustomer)
        }
    }

    @Sendable func merge(_ request: Request, context: Context) async throws -> Response {
        let (address, identity) = try self.address(context)
        let patch = try SessionPatch(body: try await request.jsonBody(limit: self.bodyLimit), maximumValueBytes: self.maximumValueBytes)
        return try await self.store.merge(address, patch, caller: identity.storefrontCaller)
            .response(sessionId: address.sessionId, forbidden: Self.otherCustomer)
    }

    @Sendable func setAttribute(_ request: Request, context: Context) async throws -> Response {
        let (address, identity) = try self.address(context)
        let attribute = try SessionAttribute(body: try await request.jsonBody(limit: self.bodyLimit), maximumValueBytes: self.maximumValueBytes)
        return try await self.store.setAttribute(address, name: attribute.name, json: attribute.json, caller: identity.storefrontCaller)
            .response(sessionId: address.sessionId, forbidden: Self.otherCustomer) {
                var body = ByteBuffer()
                JSONWriter.writeString(attribute.name, into: &body)
                return .json(body, status: .created)
            }
    }

    @Sendable func deleteAttribute(_ request: Request, context: Context) async throws -> Response {
        let (address, identity) = try self.address(context)
        let name = try context.pathAttributeName()
        return try await self.store.deleteAttribute(address, name: name, caller: identity.storefrontCaller)
            .response(sessionId: address.sessionId, forbidden: Self.otherCustomer)
    }

    private func address(_ context: Context) throws -> (SessionAddress, Identity) {
        let identity = try context.verifiedIdentity
        // The auth middleware has checked that the token carries a valid sid.
        return (self.store.address(tenant: identity.tenant, sessionId: identity.claims.sid ?? ""), identity)
    }
}
