import Foundation
import JWTKit

/// Verifies bearer tokens: HS256 with the configured secret, RS256/ES256/EdDSA with the keys of
/// a JWKS document (looked up by `kid`). The header's `alg` must be one of these and must match
/// the key it selects, so neither `alg: none` nor a token "signed" with a public key as an HMAC
/// secret gets through.
public struct TokenVerifier: Sendable {
    /// Why a token was refused.
    public struct Failure: Error, Sendable {
        /// What is wrong with the token, for a person (never the token itself).
        public var message: String
    }

    private let hmac: JWTKeyCollection?
    private let asymmetric: JWTKeyCollection?
    private let asymmetricAlgorithms: [String: String]
    private let cache = VerifiedTokenCache()

    /// A verifier with an HS256 `secret` and/or the public keys of `jwks` (a JWKS JSON document).
    public init(secret: String?, jwks: String?) async throws {
        if let secret, !secret.isEmpty {
            self.hmac = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        } else {
            self.hmac = nil
        }
        if let jwks {
            let collection = JWTKeyCollection()
            try await collection.add(jwksJSON: jwks)
            self.asymmetric = collection
            self.asymmetricAlgorithms = try Self.algorithms(in: jwks)
        } else {
            self.asymmetric = nil
            self.asymmetricAlgorithms = [:]
        }
    }

    /// The verified claims of the token in an `Authorization` header value, `Bearer <token>` with
    /// the scheme in any case; nil when the value is not of that form. Remembered by the header's
    /// exact text, so a client that keeps its token costs one lookup and no copy of the token.
    public func verify(authorization header: String) async throws -> TokenClaims? {
        if let claims = self.cache.claims(for: header) { return claims }
        guard let token = Self.bearerToken(header) else { return nil }
        let claims = try await self.verifyUncached(token)
        self.cache.store(claims, for: header)
        return claims
    }

    /// The token of an `Authorization: Bearer <token>` header (the scheme in any case), else nil.
    static func bearerToken(_ header: String) -> String? {
        let utf8 = header.utf8
        guard utf8.count > 7, ASCII.equalsIgnoringCase(utf8.prefix(7), "bearer ".utf8) else { return nil }
        return String(utf8.dropFirst(7))
    }

    /// The verified claims of `token`; throws a ``Failure`` that says why it is refused.
    public func verify(_ token: String) async throws -> TokenClaims {
        if let claims = self.cache.claims(for: token) { return claims }
        let claims = try await self.verifyUncached(token)
        self.cache.store(claims, for: token)
        return claims
    }

    private func verifyUncached(_ token: String) async throws -> TokenClaims {
        let header = try Self.header(of: token)
        guard let alg = header.alg else { throw Failure(message: "the token names no algorithm") }
        do {
            switch alg {
            case "HS256":
                guard let hmac else { throw Failure(message: "HS256 tokens are not accepted here") }
                guard header.kid == nil else { throw Failure(message: "an HS256 token must not name a key id") }
                return try await hmac.verify(token, as: TokenClaims.self)
            case "RS256", "ES256", "EdDSA":
                guard let asymmetric, let kid = header.kid else { throw Failure(message: "the token names no known key") }
                guard let keyAlgorithm = self.asymmetricAlgorithms[kid] else { throw Failure(message: "the token names no known key") }
                guard keyAlgorithm == alg else { throw Failure(message: "the token's algorithm does not match its key") }
                return try await asymmetric.verify(token, as: TokenClaims.self)
            default:
                throw Failure(message: "the token's algorithm is not accepted")
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as JWTError {
            switch error.errorType {
            case .claimVerificationFailure: throw Failure(message: "the token has expired or is not valid yet")
            case .signatureVerificationFailed: throw Failure(message: "the token's signature is invalid")
            default: throw Failure(message: "the token is malformed or its claims are incomplete")
            }
        } catch {
            throw Failure(message: "the token is malformed or its claims are incomplete")
        }
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    private static func header(of token: String) throws(Failure) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Self.base64URLDecoded(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw Failure(message: "the token is not a well-formed JWT") }
        return header
    }

    private static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }

    /// kid -> the algorithm its key signs with (`alg` of the JWK, or from its key type).
    private static func algorithms(in jwks: String) throws -> [String: String] {
        struct Key: Decodable { var kid: String?; var alg: String?; var kty: String?; var crv: String? }
        struct Set: Decodable { var keys: [Key] }
        let set = try JSONDecoder().decode(Set.self, from: Data(jwks.utf8))
        var result: [String: String] = [:]
        for key in set.keys {
            guard let kid = key.kid else { continue }
            if let alg = key.alg {
                result[kid] = alg
            } else {
                switch key.kty {
                case "RSA": result[kid] = "RS256"
                case "EC" where key.crv == "P-256": result[kid] = "ES256"
                case "OKP": result[kid] = "EdDSA"
                default: continue
                }
            }
        }
        return result
    }
}
