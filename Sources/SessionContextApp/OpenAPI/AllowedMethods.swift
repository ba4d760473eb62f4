import SessionStore

/// The methods each path of the API answers, read once from the OpenAPI document, so that a
/// known path called with another method is a 405 with `Allow`, not a 404.
struct AllowedMethods: Sendable {
    static let shared = AllowedMethods(document: OpenAPIDocument.json)

    private let templates: [(segments: [Substring], methods: [String])]

    init(document: String) {
        var templates: [(segments: [Substring], methods: [String])] = []
        if let parsed = try? JSONParser(maximumDepth: 64).parse(Array(document.utf8)), case .object(let paths)? = parsed[member: "paths"] {
            for (template, item) in paths {
                guard case .object(let members) = item else { continue }
                let methods = members.map(\.name).filter { ["get", "put", "post", "patch", "delete"].contains($0) }.map { $0.uppercased() }
                templates.append((template.split(separator: "/", omittingEmptySubsequences: false), methods))
            }
        }
        self.templates = templates
    }

    /// The methods `path` answers, or nil when no route has that path.
    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for template in self.templates where template.segments.count == segments.count {
            let matches = zip(template.segments, segments).allSatisfy { part, segment in
                part.hasPrefix("{") ? !segment.isEmpty : part == segment
            }
            if matches { return template.methods }
        }
        return nil
    }
}
