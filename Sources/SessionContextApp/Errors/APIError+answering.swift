import Logging
import RedisClient
import SessionStore

extension APIError {
    /// The API's answer to `error`, thrown by a route's own work (its token check, its body, its
    /// store call): itself when it is an ``APIError``, 503 with `Retry-After` when Redis failed,
    /// 400 for a body that breaks a field's rule, and 500 for anything unexpected. The failures
    /// that are the service's, not the caller's, are logged to `logger`. ``ErrorMiddleware`` and
    /// ``PipelineResponder`` both answer with it: one place for these answers.
    static func answering(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as RedisError:
            logger.warning("redis unavailable", metadata: ["error": "\(error)"])
            return .unavailable("the session store is unavailable, retry later")
        case let error as SessionInputError:
            return .badRequest(error.message)
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return APIError(.internalServerError, "internal error")
        }
    }
}
