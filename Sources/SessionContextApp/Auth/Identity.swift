import SessionStore

/// Who the verified token says the caller is, for the handlers.
public struct Identity: Sendable {
    /// The verified claims.
    public var claims: TokenClaims
    /// The path's tenant and, on storefront routes, the token's session.
    public var tenant: String

    /// The caller as the store's scripts see it, on storefront routes.
    var storefrontCaller: SessionCaller { .storefront(customerId: self.claims.customerId) }
}
