import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import SessionContextApp
import SessionStore
import Testing

@Suite("Authentication and authorization")
struct AuthTests {
    func expectRefused(_ response: TestResponse, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(try response.json[member: "code"]?.intValue == Int64(status.code), sourceLocation: sourceLocation)
        if status == .unauthorized {
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, sourceLocation: sourceLocation)
        }
    }

    @Test("Missing, malformed, expired, not-yet-valid, bad-signature and alg:none tokens are 401")
    func invalidTokens() async throws {
        let fixture = try Fixture()
        let tenant = fixture.tenant
        let expired = try await Tokens.sign(TokenClaims(tenant: tenant, expires: .in(-60), scope: "session_context.context_manage"))
        let notYet = try await Tokens.sign(
            TokenClaims(tenant: tenant, expires: .in(3600), notBefore: .init(value: Date().addingTimeInterval(600)), scope: "session_context.context_manage")
        )
        let otherSecret = try await Tokens.sign(
            TokenClaims(tenant: tenant, expires: .in(3600), scope: "session_context.context_manage"), secret: "another-secret-another-secret-another!!"
        )
        let valid = try await fixture.managementToken()
        let tampered = String(valid.dropLast(2)) + (valid.hasSuffix("AA") ? "BB" : "AA")
        let path = "/session-context/\(tenant)/context/s1"
        try await fixture.withApp { client async throws in
            try expectRefused(try await client.send(.get, path), .unauthorized)
            try expectRefused(try await client.send(.get, path, headers: [.authorization: "Basic abc"]), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: "garbage"), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: expired), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: notYet), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: otherSecret), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: tampered), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: Tokens.unsigned(tenant: tenant)), .unauthorized)
            #expect(try await client.send(.get, path, token: valid).status == .notFound)
        }
    }

    @Test("The Bearer scheme is matched in any case; other schemes and an empty token are 401")
    func bearerScheme() async throws {
        let fixture = try Fixture()
        let token = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let path = "/session-context/\(fixture.tenant)/context/none"
            for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
                let response = try await client.send(.get, path, headers: [.authorization: "\(scheme) \(token)"])
                #expect(response.status == .notFound, "\(scheme)")
            }
            for header in ["Basic \(token)", "Bearer ", "Bearer", "Bearer\(token)", "Beare \(token)", "Bearar \(token)"] {
                let response = try await client.send(.get, path, headers: [.authorization: header])
                #expect(response.status == .unauthorized, "\(header.prefix(12))")
            }
        }
    }

    @Test("A verified token is remembered only while it is valid: after exp it is refused again")
    func cachedTokenExpires() async throws {
        let verifier = try await TokenVerifier(secret: Fixture.secret, jwks: nil)
        let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2).rounded(.up))
        let token = try await Tokens.sign(TokenClaims(tenant: "acme", expires: .init(value: expiry), scope: "x"))
        #expect(try await verifier.verify(token).tenant == "acme")
        #expect(try await verifier.verify(token).tenant == "acme")
        try await Task.sleep(for: .seconds(expiry.timeIntervalSinceNow + 0.2))
        await #expect(throws: TokenVerifier.Failure.self) { try await verifier.verify(token) }
        // A tampered copy of a cached token is not a cache hit.
        let fresh = try await Tokens.sign(TokenClaims(tenant: "acme", expires: .in(60), scope: "x"))
        _ = try await verifier.verify(fresh)
        await #expect(throws: TokenVerifier.Failure.self) { try await verifier.verify(fresh + "x") }
    }

    @Test("A token without exp or tenant is 401")
    func missingClaims() async throws {
        let fixture = try Fixture()
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: Fixture.secret), digestAlgorithm: .sha256)
        struct NoExp: JWTPayload { var tenant: String; var scope: String; func verify(using algorithm: some JWTAlgorithm) async throws {} }
        struct NoTenant: JWTPayload { var exp: ExpirationClaim; var scope: String; func verify(using algorithm: some JWTAlgorithm) async throws {} }
        let noExp = try await keys.sign(NoExp(tenant: fixture.tenant, scope: "session_context.context_manage"))
        let noTenant = try await keys.sign(NoTenant(exp: .in(3600), scope: "session_context.context_manage"))
        try await fixture.withApp { client async throws in
            try expectRefused(try await client.send(.get, "/session-context/\(fixture.tenant)/context/s1", token: noExp), .unauthorized)
            try expectRefused(try await client.send(.get, "/session-context/\(fixture.tenant)/context/s1", token: noTenant), .unauthorized)
        }
    }

    @Test("Wrong tenant and wrong scope are 403; both scope spellings are accepted")
    func scopesAndTenants() async throws {
        let fixture = try Fixture()
        let otherTenant = try await fixture.managementToken(tenant: "othertenant")
        let noScope = try await fixture.managementToken(scope: "cart.read")
        let altSpelling = try await fixture.managementToken(scope: "cart.read sessioncontext.context_manage")
        let storefront = try await fixture.storefrontToken(sid: "s1")
        let management = try await fixture.managementToken()
        try await fixture.withApp { client async throws in
            let path = "/session-context/\(fixture.tenant)/context/s1"
            try expectRefused(try await client.send(.get, path, token: otherTenant), .forbidden)
            try expectRefused(try await client.send(.get, path, token: noScope), .forbidden)
            try expectRefused(try await client.send(.get, path, token: storefront), .forbidden)
            #expect(try await client.send(.get, path, token: altSpelling).status == .notFound)
            // Storefront calls need a sid.
            try expectRefused(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: management), .forbidden)
            let wrongTenantStorefront = try await fixture.storefrontToken(sid: "s1", tenant: "othertenant")
            try expectRefused(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: wrongTenantStorefront), .forbidden)
        }
    }

    @Test("A scope is granted only as a whole space-separated word", arguments: [
        ("session_context.context_manage", true),
        ("cart.read session_context.context_manage", true),
        ("session_context.context_manage  cart.read", true),
        ("cart.read sessioncontext.context_manage", true),
        ("session_context.context_manage_all", false),
        ("xsession_context.context_manage", false),
        ("session_context.context", false),
        ("cart.read session_context.context", false),
        (" session_context.context_manage", true),
        ("cart.read ", false),
        ("  ", false),
        ("", false),
    ])
    func scopeWords(scope: String, granted: Bool) {
        let claims = TokenClaims(tenant: "acme", expires: .in(60), scope: scope)
        #expect(claims.hasAnyScope(of: ["session_context.context_manage", "sessioncontext.context_manage"]) == granted)
    }

    @Test("A storefront token reaches only its own sid")
    func wrongSid() async throws {
        let fixture = try Fixture()
        let mine = Fixture.uniqueSessionId()
        let theirs = Fixture.uniqueSessionId()
        let token = try await fixture.storefrontToken(sid: mine)
        try await fixture.withApp { client async throws in
            try await StorefrontAPITests.create(client, fixture, sid: theirs)
            // There is no way to name another session on the storefront side: /me is the token's sid.
            #expect(try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: token).status == .notFound)
            // And the management routes refuse a storefront token.
            try expectRefused(try await client.send(.get, "/session-context/\(fixture.tenant)/context/\(theirs)", token: token), .forbidden)
        }
    }

    @Test("ES256 tokens from the JWKS are accepted; HS256 signed with the public key is refused")
    func jwks() async throws {
        let privateKey = ES256PrivateKey()
        let parameters = try #require(privateKey.publicKey.parameters)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        let fixture = try Fixture { $0.jwks = jwks }
        let claims = TokenClaims(tenant: fixture.tenant, expires: .in(3600), scope: "session_context.context_manage")
        let es256 = try await JWTKeyCollection().add(ecdsa: privateKey, kid: "k1").sign(claims, kid: "k1")
        let unknownKid = try await JWTKeyCollection().add(ecdsa: ES256PrivateKey(), kid: "k2").sign(claims, kid: "k2")
        // The classic confusion attack: HMAC with the public key's text as the secret, naming the EC key.
        let confused = try await JWTKeyCollection().add(hmac: HMACKey(from: jwks), digestAlgorithm: .sha256, kid: "k1").sign(claims, kid: "k1")
        try await fixture.withApp { client async throws in
            let path = "/session-context/\(fixture.tenant)/context/s1"
            #expect(try await client.send(.get, path, token: es256).status == .notFound)
            try expectRefused(try await client.send(.get, path, token: unknownKid), .unauthorized)
            try expectRefused(try await client.send(.get, path, token: confused), .unauthorized)
        }
    }
}
