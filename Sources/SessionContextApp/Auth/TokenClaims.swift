import JWTKit

/// The claims the service reads from a bearer token.
public struct TokenClaims: JWTPayload, Equatable {
    /// The tenant the token is for; must equal the path's tenant.
    public var tenant: String
    /// When the token expires (required).
    public var exp: ExpirationClaim
    /// Not valid before (optional).
    public var nbf: NotBeforeClaim?
    /// Space-separated scopes.
    public var scope: String?
    /// The session id, required on storefront calls.
    public var sid: String?
    /// The logged-in customer, absent for anonymous tokens.
    public var customerId: String?

    enum CodingKeys: String, CodingKey {
        case tenant, exp, nbf, scope, sid
        case customerId = "customer_id"
    }

    /// Claims from their values.
    public init(tenant: String, expires: ExpirationClaim, notBefore: NotBeforeClaim? = nil, scope: String? = nil, sid: String? = nil, customerId: String? = nil) {
        self.tenant = tenant
        self.exp = expires
        self.nbf = notBefore
        self.scope = scope
        self.sid = sid
        self.customerId = customerId
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try self.exp.verifyNotExpired()
        try self.nbf?.verifyNotBefore()
    }

    /// Whether the token carries any of `scopes`: a space-separated word of `scope` equal to one
    /// of them. Compared as UTF-8 bytes in the strings' own storage (on every authenticated
    /// request): no grapheme breaking, no `String` per word and no array of words.
    public func hasAnyScope(of scopes: Set<String>) -> Bool {
        guard var scope else { return false }
        return scope.withUTF8 { bytes in
            var wordStart = 0
            while wordStart < bytes.count {
                var wordEnd = wordStart
                while wordEnd < bytes.count, bytes[wordEnd] != UInt8(ascii: " ") { wordEnd += 1 }
                let word = UnsafeBufferPointer(rebasing: bytes[wordStart..<wordEnd])
                if !word.isEmpty, scopes.contains(where: { allowed in
                    var allowed = allowed
                    return allowed.withUTF8 { $0.count == word.count && $0.elementsEqual(word) }
                }) {
                    return true
                }
                wordStart = wordEnd + 1
            }
            return false
        }
    }
}
