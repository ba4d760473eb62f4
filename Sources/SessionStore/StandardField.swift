import NIOCore

/// The standard fields of a session context, in the order the JSON form lists them.
public enum StandardField: String, CaseIterable, Sendable {
    case customerId, siteCode, currency, cartId, targetLocation, language

    /// The hash field that stores it: two letters, since every byte of every context counts.
    public var storageField: String {
        switch self {
        case .customerId: return "cu"
        case .siteCode: return "si"
        case .currency: return "cy"
        case .cartId: return "ca"
        case .targetLocation: return "tl"
        case .language: return "la"
        }
    }

    /// The fields a storefront PATCH may change.
    public static let patchable: [StandardField] = [.siteCode, .currency, .targetLocation, .language]

    /// Checks a value for this field; returns what is wrong with it, or nil when it is fine.
    public func problem(with value: String) -> String? {
        switch self {
        case .currency:
            return Self.matches(value, count: 3...3, allowed: Self.upper) ? nil : "must be three upper-case letters, such as EUR"
        case .targetLocation:
            return Self.matches(value, count: 2...2, allowed: Self.upper) ? nil : "must be a two-letter upper-case country code, such as DE"
        case .language:
            return Self.isLanguageTag(value) ? nil : "must be a language code such as de or en-US"
        case .customerId, .siteCode, .cartId:
            if value.isEmpty || value.unicodeScalars.count > 256 { return "must be 1 to 256 characters" }
            if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                return "must not contain control characters"
            }
            return nil
        }
    }

    private static let upper: ClosedRange<UInt8> = UInt8(ascii: "A")...UInt8(ascii: "Z")

    private static func matches(_ value: String, count: ClosedRange<Int>, allowed: ClosedRange<UInt8>) -> Bool {
        count.contains(value.utf8.count) && value.utf8.allSatisfy { allowed.contains($0) }
    }

    /// A primary language subtag of 2 to 3 letters, then subtags of 2 to 8 letters or digits (BCP 47 in short).
    private static func isLanguageTag(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.utf8.count),
            primary.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) })
        else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.utf8.count)
                && part.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
        }
    }
}
