import Foundation
import HTTPTypes
import SessionContextApp
import SessionStore

/// Checks real responses against the served OpenAPI document: the status must be documented for
/// the operation, and a JSON body must match the response's schema (types, required members,
/// patterns, `additionalProperties`, `oneOf`, `$ref`). Every request a test makes through
/// `send` is checked, so the document stays true to what the service does.
struct OpenAPIContract: Sendable {
    static let shared = OpenAPIContract(document: try! JSONParser(maximumDepth: 64).parse(Array(OpenAPIDocument.json.utf8)))

    let document: JSONValue

    /// What is wrong with this response, by the document; empty when it conforms or the path is not in it.
    func problems(method: HTTPRequest.Method, uri: String, status: Int, body: [UInt8]) -> [String] {
        let path = String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        guard let (template, item) = self.pathItem(for: path),
            let operation = item[member: method.rawValue.lowercased()]
        else { return [] }
        guard let response = operation[member: "responses"]?[member: String(status)].map(self.resolve) else {
            return ["\(method.rawValue) \(template): status \(status) is not documented"]
        }
        guard let content = response[member: "content"] else {
            return body.isEmpty ? [] : ["\(method.rawValue) \(template) \(status): a body where the document has none"]
        }
        guard let schema = content[member: "application/json"]?[member: "schema"] else { return [] }
        guard let value = try? JSONParser(maximumDepth: 64).parse(body) else {
            return ["\(method.rawValue) \(template) \(status): the body is not JSON"]
        }
        var problems: [String] = []
        self.validate(value, schema, at: "body", into: &problems)
        return problems.map { "\(method.rawValue) \(template) \(status): \($0)" }
    }

    private func pathItem(for path: String) -> (String, JSONValue)? {
        guard case .object(let paths)? = self.document[member: "paths"] else { return nil }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (template, item) in paths {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { continue }
            let matches = zip(parts, segments).allSatisfy { part, segment in
                part.hasPrefix("{") ? !segment.isEmpty : part == segment
            }
            if matches { return (template, item) }
        }
        return nil
    }

    private func resolve(_ schema: JSONValue) -> JSONValue {
        guard let ref = schema[member: "$ref"]?.stringValue, ref.hasPrefix("#/") else { return schema }
        var node = self.document
        for part in ref.dropFirst(2).split(separator: "/") { node = node[member: String(part)] ?? .null }
        return self.resolve(node)
    }

    private func validate(_ value: JSONValue, _ schema: JSONValue, at location: String, into problems: inout [String]) {
        let schema = self.resolve(schema)
        if case .array(let options)? = schema[member: "oneOf"] {
            let matching = options.filter { option in
                var inner: [String] = []
                self.validate(value, option, at: location, into: &inner)
                return inner.isEmpty
            }
            if matching.count != 1 { problems.append("\(location) matches \(matching.count) of the oneOf schemas") }
            return
        }
        if let type = schema[member: "type"] {
            let allowed: [String]
            switch type {
            case .string(let name): allowed = [name]
            case .array(let names): allowed = names.compactMap(\.stringValue)
            default: allowed = []
            }
            guard allowed.contains(where: { Self.has(value, type: $0) }) else {
                problems.append("\(location) is \(value.typeName), not \(allowed.joined(separator: " or "))")
                return
            }
        }
        switch value {
        case .string(let text):
            if let pattern = schema[member: "pattern"]?.stringValue, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(location) does not match \(pattern)")
            }
            if let minimum = schema[member: "minLength"]?.intValue, text.unicodeScalars.count < minimum {
                problems.append("\(location) is shorter than \(minimum)")
            }
            if let maximum = schema[member: "maxLength"]?.intValue, text.unicodeScalars.count > maximum {
                problems.append("\(location) is longer than \(maximum)")
            }
            if case .array(let options)? = schema[member: "enum"], !options.contains(value) {
                problems.append("\(location) is not one of the enum values")
            }
        case .number(let literal):
            if let minimum = schema[member: "minimum"]?.intValue, let number = Double(literal), number < Double(minimum) {
                problems.append("\(location) is below \(minimum)")
            }
        case .object(let members):
            if case .array(let required)? = schema[member: "required"] {
                for name in required.compactMap(\.stringValue) where !members.contains(where: { $0.name == name }) {
                    problems.append("\(location) lacks the required member \(name)")
                }
            }
            let properties = schema[member: "properties"]
            for (name, member) in members {
                if let property = properties?[member: name] {
                    self.validate(member, property, at: "\(location).\(name)", into: &problems)
                } else if let additional = schema[member: "additionalProperties"] {
                    if additional == .bool(false) {
                        problems.append("\(location) has the undocumented member \(name)")
                    } else if case .object = additional {
                        self.validate(member, additional, at: "\(location).\(name)", into: &problems)
                    }
                }
            }
        case .array(let elements):
            if let items = schema[member: "items"] {
                for (index, element) in elements.enumerated() {
                    self.validate(element, items, at: "\(location)[\(index)]", into: &problems)
                }
            }
        default:
            break
        }
    }

    private static func has(_ value: JSONValue, type: String) -> Bool {
        switch (value, type) {
        case (.string, "string"), (.bool, "boolean"), (.null, "null"), (.object, "object"), (.array, "array"), (.number, "number"):
            return true
        case (.number(let literal), "integer"):
            return !literal.contains(".") && !literal.contains("e") && !literal.contains("E")
        default:
            return false
        }
    }
}
