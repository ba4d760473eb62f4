import ArgumentParser
import Foundation
import JWTKit
import SessionContextApp

/// `session-context token`: prints an HS256 token signed with the configured secret, for local
/// runs, scripts and tests.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a bearer token signed with the HS256 secret (--jwt-secret or SESSION_CONTEXT_JWT_SECRET)."
    )

    @Option(help: "The tenant claim.")
    var tenant: String

    @Option(help: "Space-separated scopes (default session_context.context_manage unless --sid is given).")
    var scope: String?

    @Option(help: "The session id claim (sid), for storefront calls.")
    var sid: String?

    @Option(help: "The customer_id claim, for a logged-in customer's token.")
    var customerId: String?

    @Option(help: "Seconds until the token expires (default 3600).")
    var ttl: Int = 3600

    @Option(help: "HS256 secret (env SESSION_CONTEXT_JWT_SECRET).")
    var jwtSecret: String?

    func run() async throws {
        guard let secret = self.jwtSecret ?? Environment.value("SESSION_CONTEXT_JWT_SECRET") else {
            throw ValidationError("set --jwt-secret or SESSION_CONTEXT_JWT_SECRET")
        }
        guard secret.utf8.count >= ServiceConfiguration.minimumSecretBytes else {
            throw ValidationError("jwt-secret must be at least \(ServiceConfiguration.minimumSecretBytes) bytes")
        }
        let scope = self.scope ?? (self.sid == nil ? "session_context.context_manage" : nil)
        let claims = TokenClaims(
            tenant: self.tenant,
            expires: .init(value: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + TimeInterval(self.ttl)).rounded(.down))),
            scope: scope,
            sid: self.sid,
            customerId: self.customerId
        )
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        print(try await keys.sign(claims))
    }
}
