import HTTPTypes
import Hummingbird
import SessionStore

extension SessionWriteOutcome {
    /// The answer to a write: `success` when it was applied or changed nothing, else the contract's error.
    ///
    /// A successful answer carries the context's version afterwards as `ETag: "<version>"`, so a
    /// client can send its next PUT or PATCH without reading the context again; not when the write
    /// ended the context (`versioned: false`): there is no version left to name.
    func response(
        sessionId: String, forbidden: String, versioned: Bool = true, success: () -> Response = { .noContent }
    ) throws -> Response {
        let version = try self.version(sessionId: sessionId, forbidden: forbidden)
        var response = success()
        if versioned { response.headers[.eTag] = Self.eTag(version) }
        return response
    }

    /// The context's version after a write that was applied or changed nothing; else throws the
    /// contract's error (`forbidden` is the 403's message).
    func version(sessionId: String, forbidden: String) throws -> Int64 {
        switch self {
        case .applied(let version), .unchanged(let version): return version
        case .notFound: throw APIError.sessionNotFound(sessionId)
        case .conflict(let currentVersion): throw APIError.versionConflict(currentVersion)
        case .forbidden: throw APIError.forbidden(forbidden)
        case .tooManyAttributes(let limit): throw APIError.badRequest("context would hold more than \(limit) attributes, the limit")
        }
    }

    /// The `ETag` of a context at `version`.
    static func eTag(_ version: Int64) -> String {
        "\"\(version)\""
    }
}
