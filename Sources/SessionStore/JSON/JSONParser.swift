/// A strict JSON parser (RFC 8259) for request bodies: rejects invalid UTF-8, duplicate member
/// names, nesting deeper than a limit and anything after the value, each with a message that says
/// where.
public struct JSONParser {
    /// Why a body is not acceptable JSON.
    public struct Failure: Error, Sendable, Equatable {
        /// What is wrong, for a person.
        public var message: String
    }

    /// The deepest nesting of arrays and objects accepted.
    public var maximumDepth: Int

    /// A parser that accepts nesting up to `maximumDepth`.
    public init(maximumDepth: Int = 32) {
        self.maximumDepth = maximumDepth
    }

    /// Parses one JSON value that fills `bytes` (white space around it allowed).
    public func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
        let array = Array(bytes)
        var reader = Reader(bytes: array, maximumDepth: self.maximumDepth)
        reader.skipWhitespace()
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.index == array.count else { throw reader.failure("unexpected data after the JSON value") }
        return value
    }

    /// The value of member `name` of the object at the start of `bytes`, when it is a string; nil
    /// when the object has no such member or its value is something else. It reads only up to
    /// the first member of that name: the members before it are read as ``parse(_:)`` reads them,
    /// but their names are not checked for duplicates, and what follows is not read at all. For
    /// the service's own change events, whose layout the Lua scripts write
    /// and whose readers want one member of each.
    public func stringMember(_ name: String, of bytes: some Collection<UInt8>) throws(Failure) -> String? {
        var reader = Reader(bytes: Array(bytes), maximumDepth: self.maximumDepth)
        return try reader.readStringMember(name)
    }
}

extension JSONParser {
    fileprivate struct Reader {
        let bytes: [UInt8]
        let maximumDepth: Int
        var index = 0

        init(bytes: [UInt8], maximumDepth: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
        }

        func failure(_ message: String) -> Failure {
            Failure(message: "malformed JSON at byte \(self.index): \(message)")
        }

        mutating func skipWhitespace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        mutating func readValue(depth: Int) throws(Failure) -> JSONValue {
            guard self.index < self.bytes.count else { throw self.failure("unexpected end of input") }
            switch self.bytes[self.index] {
            case UInt8(ascii: "{"): return try self.readObject(depth: depth + 1)
            case UInt8(ascii: "["): return try self.readArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try self.readString())
            case UInt8(ascii: "t"): try self.readLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try self.readLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try self.readLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.readNumber())
            default: throw self.failure("unexpected character")
            }
        }

        mutating func readLiteral(_ literal: StaticString) throws(Failure) {
            let count = literal.utf8CodeUnitCount
            guard self.index + count <= self.bytes.count else { throw self.failure("unexpected end of input") }
            let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
            for offset in 0..<count where self.bytes[self.index + offset] != expected[offset] {
                throw self.failure("unexpected character")
            }
            self.index += count
        }

        mutating func readObject(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= self.maximumDepth else { throw self.failure("nesting deeper than \(self.maximumDepth) levels") }
            var members: [(name: String, value: JSONValue)] = []
            // Names compare by their bytes, as Redis stores them: canonically equivalent
            // spellings (a precomposed and a decomposed "é") are different names. A small object
            // (most bodies) is searched in place; a set of names is built only for a larger one.
            var names: Set<[UInt8]>?
            if self.openObject() { return .object(members) }
            while true {
                let name = try self.readMemberName()
                guard Self.isNew(name, among: members, names: &names) else { throw self.failure("duplicate member name \"\(name)\"") }
                try self.readColon()
                members.append((name, try self.readValue(depth: depth)))
                if try self.closesObject() { return .object(members) }
            }
        }

        /// The string value of member `name` of the object at the current position (see
        /// ``JSONParser/stringMember(_:of:)``); the members before it are read and dropped.
        mutating func readStringMember(_ name: String) throws(Failure) -> String? {
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: "{") else { throw self.failure("expected an object") }
            if self.openObject() { return nil }
            while true {
                let member = try self.readMemberName()
                try self.readColon()
                if member.utf8.elementsEqual(name.utf8) {
                    return self.peek() == UInt8(ascii: "\"") ? try self.readString() : nil
                }
                _ = try self.readValue(depth: 1)
                if try self.closesObject() { return nil }
            }
        }

        /// Reads an object's `{`; whether the object is empty (its `}` then read too).
        mutating func openObject() -> Bool {
            self.index += 1
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: "}") else { return false }
            self.index += 1
            return true
        }

        /// A member's name, in quotes.
        mutating func readMemberName() throws(Failure) -> String {
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: "\"") else { throw self.failure("expected a member name in quotes") }
            return try self.readString()
        }

        /// The `:` after a member's name, and the white space around it.
        mutating func readColon() throws(Failure) {
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: ":") else { throw self.failure("expected ':' after a member name") }
            self.index += 1
            self.skipWhitespace()
        }

        /// What follows a member's value: `,` (false: another member comes) or `}` (true).
        mutating func closesObject() throws(Failure) -> Bool {
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: ","): self.index += 1; return false
            case UInt8(ascii: "}"): self.index += 1; return true
            default: throw self.failure("expected ',' or '}' in an object")
            }
        }

        /// Objects with more members than this keep a set of their names for the duplicate check.
        static let namesSearchedInPlace = 8

        /// Whether `name` differs, byte for byte, from every name in `members`; the set of names
        /// is built once the object has more than ``namesSearchedInPlace`` members, and kept.
        static func isNew(_ name: String, among members: [(name: String, value: JSONValue)], names: inout Set<[UInt8]>?) -> Bool {
            if names == nil, members.count < Self.namesSearchedInPlace {
                return !members.contains { $0.name.utf8.elementsEqual(name.utf8) }
            }
            if names == nil { names = Set(members.map { Array($0.name.utf8) }) }
            return names!.insert(Array(name.utf8)).inserted
        }

        mutating func readArray(depth: Int) throws(Failure) -> JSONValue {
            guard depth <= self.maximumDepth else { throw self.failure("nesting deeper than \(self.maximumDepth) levels") }
            self.index += 1
            var elements: [JSONValue] = []
            self.skipWhitespace()
            if self.peek() == UInt8(ascii: "]") {
                self.index += 1
                return .array(elements)
            }
            while true {
                self.skipWhitespace()
                elements.append(try self.readValue(depth: depth))
                self.skipWhitespace()
                switch self.peek() {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "]"): self.index += 1; return .array(elements)
                default: throw self.failure("expected ',' or ']' in an array")
                }
            }
        }

        func peek() -> UInt8? {
            self.index < self.bytes.count ? self.bytes[self.index] : nil
        }

        mutating func readNumber() throws(Failure) -> String {
            let start = self.index
            if self.peek() == UInt8(ascii: "-") { self.index += 1 }
            guard let first = self.peek(), Self.isDigit(first) else { throw self.failure("invalid number") }
            if first == UInt8(ascii: "0") {
                self.index += 1
            } else {
                while let byte = self.peek(), Self.isDigit(byte) { self.index += 1 }
            }
            if self.peek() == UInt8(ascii: ".") {
                self.index += 1
                guard let byte = self.peek(), Self.isDigit(byte) else { throw self.failure("invalid number") }
                while let byte = self.peek(), Self.isDigit(byte) { self.index += 1 }
            }
            if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
                self.index += 1
                if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.index += 1 }
                guard let byte = self.peek(), Self.isDigit(byte) else { throw self.failure("invalid number") }
                while let byte = self.peek(), Self.isDigit(byte) { self.index += 1 }
            }
            return String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func readString() throws(Failure) -> String {
            self.index += 1  // opening quote
            var runStart = self.index
            // Without escapes the string is the bytes between the quotes; when they are all ASCII
            // (most names and values) they are valid UTF-8 as they are, with no copy to validate.
            var plain: [UInt8] = []
            var escaped = false
            var isASCII = true
            while true {
                guard self.index < self.bytes.count else { throw self.failure("unterminated string") }
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    let run = self.bytes[runStart..<self.index]
                    self.index += 1
                    if !escaped, isASCII { return String(decoding: run, as: UTF8.self) }
                    plain.append(contentsOf: run)
                    return try self.validatedUTF8(plain)
                }
                if byte < 0x20 { throw self.failure("control character in a string") }
                if byte >= 0x80 { isASCII = false }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    plain.append(contentsOf: self.bytes[runStart..<self.index])
                    self.index += 1
                    try self.readEscape(into: &plain)
                    runStart = self.index
                    continue
                }
                self.index += 1
            }
        }

        /// `bytes` as a string; invalid UTF-8 is refused, never replaced.
        func validatedUTF8(_ bytes: [UInt8]) throws(Failure) -> String {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw self.failure("invalid UTF-8 in a string")
            }
            return text
        }

        mutating func readEscape(into output: inout [UInt8]) throws(Failure) {
            guard let byte = self.peek() else { throw self.failure("unterminated escape") }
            self.index += 1
            switch byte {
            case UInt8(ascii: "\""): output.append(0x22)
            case UInt8(ascii: "\\"): output.append(0x5C)
            case UInt8(ascii: "/"): output.append(0x2F)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var code = try self.readHex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard self.peek() == UInt8(ascii: "\\"), self.index + 1 < self.bytes.count,
                        self.bytes[self.index + 1] == UInt8(ascii: "u")
                    else { throw self.failure("unpaired surrogate in a \\u escape") }
                    self.index += 2
                    let low = try self.readHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw self.failure("unpaired surrogate in a \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw self.failure("unpaired surrogate in a \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw self.failure("invalid \\u escape") }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw self.failure("invalid escape")
            }
        }

        mutating func readHex4() throws(Failure) -> UInt32 {
            guard self.index + 4 <= self.bytes.count else { throw self.failure("unterminated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw self.failure("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                self.index += 1
            }
            return value
        }
    }
}
