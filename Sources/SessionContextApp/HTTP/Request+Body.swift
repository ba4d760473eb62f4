import Hummingbird
import NIOCore
import SessionStore

extension Request {
    /// The body as JSON: 415 unless `Content-Type` is `application/json`, 413 past `limit` bytes,
    /// 400 for anything that is not one well-formed JSON value.
    func jsonBody(limit: Int) async throws -> JSONValue {
        try Self.checkJSONHead(self.headers, limit: limit)
        let body = self.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(limit)
        } catch is NIOTooManyBytesError {
            // A body without Content-Length (chunked) is measured as it comes.
            throw Self.tooLarge(limit)
        }
        return try Self.parseJSON(buffer)
    }

    /// Checks the head of a request whose body must be JSON: 415 unless `Content-Type` is
    /// `application/json`, 413 when its `Content-Length` is past `limit` bytes.
    static func checkJSONHead(_ headers: HTTPFields, limit: Int) throws {
        guard let contentType = headers[.contentType], Self.isJSON(contentType) else {
            throw APIError(.unsupportedMediaType, "the body must be application/json")
        }
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
    }

    /// The JSON value `buffer` holds; 400 for anything that is not one well-formed JSON value.
    static func parseJSON(_ buffer: ByteBuffer) throws -> JSONValue {
        do {
            return try JSONParser().parse(buffer.readableBytesView)
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
    }

    /// Whether a `Content-Type` value names `application/json` (in any case, with or without
    /// parameters such as `charset`, with optional whitespace around it). Compared as bytes in place:
    /// Foundation's trimming and lowercasing had cost more than parsing the body.
    static func isJSON(_ contentType: String) -> Bool {
        let bytes = contentType.utf8
        let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        let isWhitespace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes[..<end].firstIndex(where: { !isWhitespace($0) }),
            let last = bytes[first..<end].lastIndex(where: { !isWhitespace($0) })
        else { return false }
        return ASCII.equalsIgnoringCase(bytes[first...last], "application/json".utf8)
    }
}
