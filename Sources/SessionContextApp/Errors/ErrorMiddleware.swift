import Hummingbird
import Logging
import NIOHTTP1

/// Turns every error into the contract's JSON error answer: Redis failures into 503 with
/// `Retry-After`, body rule violations and broken framing (a bad chunk, a body cut short) into
/// 400, Hummingbird's own errors (no route, body too large) into the same JSON shape. Anything
/// unexpected is logged and answered 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPParserError {
            // The request's framing broke while its body was read (a bad chunk size, a body cut
            // short): the client's error. The connection cannot carry another request.
            context.logger.debug("malformed request body", metadata: ["error": "\(error)"])
            var apiError = APIError.badRequest("the request body is malformed: \(error.reason)")
            apiError.headers[.connection] = "close"
            return try apiError.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            if let methods = AllowedMethods.shared.methods(for: request.uri.path), !methods.contains(request.method.rawValue) {
                var apiError = APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed here; allowed: \(methods.joined(separator: ", "))")
                apiError.headers[.allow] = methods.joined(separator: ", ")
                return try apiError.response(from: request, context: context)
            }
            return try APIError(.notFound, "no such resource").response(from: request, context: context)
        } catch let error as HTTPError {
            let message: String
            switch error.status {
            case .notFound: message = "no such resource"
            case .contentTooLarge: message = "the body is larger than the limit"
            default: message = error.body ?? error.status.reasonPhrase
            }
            var apiError = APIError(error.status, message)
            apiError.headers = error.headers
            return try apiError.response(from: request, context: context)
        } catch {
            // The route's own errors: APIError, Redis, a body's field rules, the unexpected.
            return try APIError.answering(error, logger: context.logger).response(from: request, context: context)
        }
    }
}
