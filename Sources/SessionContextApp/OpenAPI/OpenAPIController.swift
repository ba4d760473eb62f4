import Hummingbird

/// `GET /openapi.json`: the API's OpenAPI 3.1 document; no auth.
struct OpenAPIController {
    typealias Context = AppRequestContext

    private static let body = ByteBuffer(string: OpenAPIDocument.json)

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("openapi.json") { _, _ in Response.json(Self.body) }
        return routes
    }
}
