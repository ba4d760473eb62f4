/// The rules for tenants, session ids and attribute names.
public enum Identifiers {
    /// Whether `tenant` matches `^[a-z][a-z0-9]+$` and has 3 to 16 characters.
    @inlinable
    public static func isValidTenant(_ tenant: some StringProtocol) -> Bool {
        let bytes = tenant.utf8
        guard (3...16).contains(bytes.count), let first = bytes.first, first >= 0x61, first <= 0x7A else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Whether `sessionId` has 1 to 128 characters of `[A-Za-z0-9._:-]`.
    @inlinable
    public static func isValidSessionId(_ sessionId: some StringProtocol) -> Bool {
        let bytes = sessionId.utf8
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "-")
        }
    }

    /// Whether `name` is 1 to 256 characters (Unicode scalars) with no control characters.
    public static func isValidAttributeName(_ name: String) -> Bool {
        // One pass over the bytes. A byte below 0x80 is always a scalar of its own, so a C0 control
        // or DEL byte is a control character whatever surrounds it; when every byte is ASCII (the
        // usual case) there is one scalar per byte and no Unicode property lookup is needed.
        var isASCII = true
        for byte in name.utf8 {
            if byte < 0x20 || byte == 0x7F { return false }
            if byte >= 0x80 { isASCII = false }
        }
        if isASCII { return (1...256).contains(name.utf8.count) }
        let scalars = name.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= 256 else { return false }
        return !scalars.contains { $0.properties.generalCategory == .control }
    }

    /// The hash field that holds attribute `name`.
    public static func attributeField(_ name: String) -> String { "@" + name }

    /// The valid tenant and the rest of a key shaped `<prefix><tenant>:<rest>}` (`prefix` ending
    /// in the hash tag's `{`), or nil when `key` has another shape or no valid tenant.
    ///
    /// It works on the UTF-8 bytes: compared as characters, a `:` or `}` next to a combining mark
    /// or a prepended format character (possible in a customer id) would not be found.
    static func hashTag(of key: String, after prefix: String) -> (tenant: Substring, rest: Substring)? {
        let bytes = key.utf8
        guard bytes.starts(with: prefix.utf8), bytes.last == UInt8(ascii: "}") else { return nil }
        let start = bytes.index(bytes.startIndex, offsetBy: prefix.utf8.count)
        let end = bytes.index(before: bytes.endIndex)
        guard start <= end, let colon = bytes[start..<end].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let tenant = Substring(bytes[start..<colon])
        guard isValidTenant(tenant) else { return nil }
        return (tenant, Substring(bytes[bytes.index(after: colon)..<end]))
    }
}
