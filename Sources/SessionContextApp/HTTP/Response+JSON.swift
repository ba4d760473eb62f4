import Hummingbird

extension Response {
    /// A 200 (or `status`) response with a JSON body.
    static func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    /// A 204 No Content response.
    static var noContent: Response { Response(status: .noContent) }
}
