import Hummingbird
import NIOCore
import SessionStore

/// An error answer of the API: `{"code": <status>, "message": "…"}` plus the contract's extra
/// fields (`sessionId` on a session's 404, `currentVersion` on a 409).
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// What is wrong, for a person.
    public var message: String
    /// The session id, on a 404 for a session.
    public var sessionId: String?
    /// The stored version, on a 409.
    public var currentVersion: Int64?
    /// Extra headers (`WWW-Authenticate`, `Retry-After`).
    public var headers: HTTPFields = [:]

    /// An error of `status` with `message`.
    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: self.jsonBody))
    }

    /// The answer's body: `{"code": …, "message": …}` and the extra fields that are set.
    var jsonBody: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"code\":")
        buffer.writeString(String(self.status.code))
        buffer.writeStaticString(",\"message\":")
        JSONWriter.writeString(self.message, into: &buffer)
        if let sessionId = self.sessionId {
            buffer.writeStaticString(",\"sessionId\":")
            JSONWriter.writeString(sessionId, into: &buffer)
        }
        if let currentVersion = self.currentVersion {
            buffer.writeStaticString(",\"currentVersion\":")
            buffer.writeString(String(currentVersion))
        }
        buffer.writeStaticString("}")
        return buffer
    }
}

extension APIError {
    /// 400 with `message`.
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

    /// 401 with `WWW-Authenticate: Bearer`, plus `error="invalid_token"` when a token came (RFC 6750).
    static func unauthorized(_ message: String, tokenPresented: Bool = true) -> APIError {
        var error = APIError(.unauthorized, message)
        error.headers[.wwwAuthenticate] = tokenPresented ? "Bearer error=\"invalid_token\"" : "Bearer"
        return error
    }

    /// 403 with `message`.
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }

    /// 404 for a session context that does not exist.
    static func sessionNotFound(_ sessionId: String) -> APIError {
        var error = APIError(.notFound, "no session context with this id")
        error.sessionId = sessionId
        return error
    }

    /// 409 with the stored version.
    static func versionConflict(_ currentVersion: Int64) -> APIError {
        var error = APIError(.conflict, "metadata.version does not match the stored version \(currentVersion)")
        error.currentVersion = currentVersion
        return error
    }

    /// 503 with `Retry-After`.
    static func unavailable(_ message: String) -> APIError {
        var error = APIError(.serviceUnavailable, message)
        error.headers[.retryAfter] = "1"
        return error
    }
}
