/// The OpenAPI 3.1 description of the whole API, served at `GET /openapi.json`: the file
/// `openapi.json` beside this one, embedded in the binary at build time. The test suite checks
/// every response it receives against it, so it stays true.
public enum OpenAPIDocument {
    /// The document's JSON text.
    public static let json = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
