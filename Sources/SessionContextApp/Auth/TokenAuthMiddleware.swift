import HTTPTypes
import Hummingbird
import SessionStore

/// Lets a request through only with a verified bearer token of the path's tenant and, on the
/// management side, one of the manage scopes; on the storefront side, a token with a `sid`.
///
/// Order of checks: no or bad token 401, malformed tenant in the path 400, token of another
/// tenant 403, missing scope or `sid` 403.
struct TokenAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// What the route needs of the token.
    enum Requirement: Sendable {
        case management(scopes: Set<String>)
        case storefront
    }

    let verifier: TokenVerifier
    let requirement: Requirement

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.identity = try await self.identity(
            authorization: Self.authorization(of: request.headers), tenant: try context.parameters.require("tenant")
        )
        return try await next(request, context)
    }

    /// The caller of a request to `tenant` with the `Authorization` header `header`, checked in
    /// the order above; throws the ``APIError`` the request is answered with.
    func identity(authorization header: String?, tenant: String) async throws -> Identity {
        guard let header else {
            throw APIError.unauthorized("a bearer token is required", tokenPresented: false)
        }
        let verified: TokenClaims?
        do {
            verified = try await self.verifier.verify(authorization: header)
        } catch let error as TokenVerifier.Failure {
            throw APIError.unauthorized(error.message)
        } catch {
            throw APIError.unauthorized("the token is invalid")
        }
        guard let claims = verified else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        guard Identifiers.isValidTenant(tenant) else {
            throw APIError.badRequest("tenant must match ^[a-z][a-z0-9]+$ and have 3 to 16 characters")
        }
        guard claims.tenant == tenant else { throw APIError.forbidden("the token is for another tenant") }
        switch self.requirement {
        case .management(let scopes):
            guard claims.hasAnyScope(of: scopes) else {
                throw APIError.forbidden("the token lacks the scope session_context.context_manage")
            }
        case .storefront:
            guard let sid = claims.sid, Identifiers.isValidSessionId(sid) else {
                throw APIError.forbidden("a storefront call needs a token with a valid sid claim")
            }
        }
        return Identity(claims: claims, tenant: tenant)
    }

    /// The `Authorization` header's value, read in place (the header subscript joins repeated
    /// fields into a new string; a request has one `Authorization`, and a second one is ignored).
    static func authorization(of headers: HTTPFields) -> String? {
        for field in headers where field.name == .authorization { return field.value }
        return nil
    }
}
