/// The body of a PUT: the whole context as it should be.
public struct SessionReplacement: Sendable, Equatable {
    /// The standard fields; one absent here is cleared.
    public var standard: [StandardField: String]
    /// The attribute map to replace the stored one, name -> JSON text; nil leaves the attributes as they are.
    public var context: [(name: String, json: String)]?
    /// The version the caller read (`metadata.version`).
    public var expectedVersion: Int64

    public static func == (lhs: SessionReplacement, rhs: SessionReplacement) -> Bool {
        lhs.standard == rhs.standard && lhs.expectedVersion == rhs.expectedVersion
            && lhs.context?.map(\.name) == rhs.context?.map(\.name) && lhs.context?.map(\.json) == rhs.context?.map(\.json)
    }

    /// Reads a PUT body for session `sessionId`.
    public init(body: JSONValue, sessionId: String, maximumValueBytes: Int = SessionBody.defaultMaximumValueBytes) throws(SessionInputError) {
        guard case .object(let members) = body else { throw SessionInputError("the body must be a JSON object") }
        self.standard = [:]
        self.context = nil
        self.expectedVersion = try SessionBody.version(in: body)
        for (name, value) in members {
            if let field = StandardField(rawValue: name) {
                if let text = try SessionBody.standardValue(field, value) { self.standard[field] = text }
            } else if name == "context" {
                self.context = try SessionBody.attributes(value, allowingNull: false, maximumValueBytes: maximumValueBytes).map { ($0.name, $0.json ?? "") }
            } else if name == "sessionId" {
                guard case .string(let id) = value else { throw SessionInputError("sessionId must be a string") }
                guard id == sessionId else { throw SessionInputError("sessionId in the body differs from the session id in the path") }
            }
        }
    }
}
