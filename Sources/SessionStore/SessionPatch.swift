/// The body of a PATCH: the fields to change, merged in the manner of JSON Merge Patch.
public struct SessionPatch: Sendable {
    /// Standard fields to set (a value) or clear (nil); only the patchable ones are read.
    public var standard: [(field: StandardField, value: String?)]
    /// Attributes to set (JSON text) or remove (nil).
    public var attributes: [(name: String, json: String?)]
    /// The version the caller read (`metadata.version`).
    public var expectedVersion: Int64

    /// Reads a PATCH body; fields other than `siteCode`, `currency`, `targetLocation`, `language`,
    /// `context` and `metadata` are ignored.
    public init(body: JSONValue, maximumValueBytes: Int = SessionBody.defaultMaximumValueBytes) throws(SessionInputError) {
        guard case .object(let members) = body else { throw SessionInputError("the body must be a JSON object") }
        self.standard = []
        self.attributes = []
        self.expectedVersion = try SessionBody.version(in: body)
        for (name, value) in members {
            if let field = StandardField(rawValue: name), StandardField.patchable.contains(field) {
                self.standard.append((field, try SessionBody.standardValue(field, value)))
            } else if name == "context" {
                if case .null = value { continue }
                self.attributes = try SessionBody.attributes(value, allowingNull: true, maximumValueBytes: maximumValueBytes)
            }
        }
    }
}
