import Foundation
import Synchronization

/// Remembers the claims of tokens already verified, so a client that sends the same token again
/// costs a dictionary lookup instead of a signature check and two JSON decodes. Keyed by the
/// token's exact text, or the exact text of the `Authorization` header that carried it (a key
/// with a space, which no token has): a hit means these very bytes passed verification before.
/// `exp` and `nbf` are checked again on every hit. Bounded: when full it starts over.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: TokenClaims]>([:])
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The cached claims of `token` if they are still within their validity window.
    func claims(for token: String, now: Date = Date()) -> TokenClaims? {
        guard let claims = self.entries.withLock({ $0[token] }) else { return nil }
        guard claims.exp.value > now else {
            self.entries.withLock { _ = $0.removeValue(forKey: token) }
            return nil
        }
        if let notBefore = claims.nbf?.value, notBefore > now { return nil }
        return claims
    }

    /// Remembers the verified `claims` of `token`.
    func store(_ claims: TokenClaims, for token: String) {
        self.entries.withLock { entries in
            if entries.count >= self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
