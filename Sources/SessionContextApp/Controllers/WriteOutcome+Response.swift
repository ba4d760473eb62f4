import Hummingbird
import SessionStore

extension SessionWriteOutcome {
    /// The answer to a write: `success` when it was applied or changed nothing, else the contract's error.
    func response(sessionId: String, forbidden: String, success: () -> Response = { .noContent }) throws -> Response {
        switch self {
        case .applied, .unchanged: return success()
        case .notFound: throw APIError.sessionNotFound(sessionId)
        case .conflict(let currentVersion): throw APIError.versionConflict(currentVersion)
        case .forbidden: throw APIError.forbidden(forbidden)
        case .tooManyAttributes(let limit): throw APIError.badRequest("context would hold more than \(limit) attributes, the limit")
        }
    }
}
