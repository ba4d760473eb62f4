import Foundation
import Hummingbird
import SessionStore

extension AppRequestContext {
    /// The verified identity; the auth middleware guarantees it on every protected route.
    var verifiedIdentity: Identity {
        get throws {
            guard let identity else { throw APIError.unauthorized("a bearer token is required") }
            return identity
        }
    }

    /// The session id of the path, validated.
    func pathSessionId() throws -> String {
        // The path carries it percent-encoded (a client may well write ":" as %3A).
        guard let sessionId = Self.percentDecoded(try self.parameters.require("sessionId")),
            Identifiers.isValidSessionId(sessionId)
        else {
            throw APIError.badRequest("sessionId must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")
        }
        return sessionId
    }

    /// The attribute name of the path, percent-decoded and validated.
    func pathAttributeName() throws -> String {
        let raw = try self.parameters.require("attributeName")
        guard let name = Self.percentDecoded(raw) else {
            throw APIError.badRequest("attributeName is not valid percent-encoded UTF-8")
        }
        guard Identifiers.isValidAttributeName(name) else {
            throw APIError.badRequest("attributeName must be 1 to 256 characters without control characters")
        }
        return name
    }

    /// `raw` percent-decoded; nil when it is not valid percent-encoded UTF-8. Most values hold no
    /// `%` at all and are returned as they are, without Foundation's decoder.
    private static func percentDecoded(_ raw: String) -> String? {
        raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding : raw
    }
}
