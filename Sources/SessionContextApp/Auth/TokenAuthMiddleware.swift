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
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("a bearer token is required", tokenPresented: false)
        }
        guard let token = Self.bearerToken(header) else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        let claims: TokenClaims
        do {
            claims = try await self.verifier.verify(token)
        } catch let error as TokenVerifier.Failure {
            throw APIError.unauthorized(error.message)
        } catch {
            throw APIError.unauthorized("the token is invalid")
        }
        let tenant = try context.parameters.require("tenant")
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
        var context = context
        context.identity = Identity(claims: claims, tenant: tenant)
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer <token>` header (the scheme in any case), else nil.
    static func bearerToken(_ header: String) -> String? {
        let utf8 = header.utf8
        guard utf8.count > 7, utf8.prefix(7).elementsEqual("bearer ".utf8, by: { ($0 | 0x20) == $1 }) else { return nil }
        return String(utf8.dropFirst(7))
    }
}
