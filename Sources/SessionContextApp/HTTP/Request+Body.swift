import Hummingbird
import SessionStore

extension Request {
    /// The body as JSON: 415 unless `Content-Type` is `application/json`, 413 past `limit` bytes,
    /// 400 for anything that is not one well-formed JSON value.
    func jsonBody(limit: Int) async throws -> JSONValue {
        guard let contentType = self.headers[.contentType], Self.isJSON(contentType) else {
            throw APIError(.unsupportedMediaType, "the body must be application/json")
        }
        if let length = self.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
        var body = self.body
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
        do {
            return try JSONParser().parse(buffer.readableBytesView)
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    private static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased()
        return mediaType == "application/json"
    }
}
