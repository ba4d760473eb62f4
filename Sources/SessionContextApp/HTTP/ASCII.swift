/// Comparisons of the ASCII words in HTTP headers (auth schemes, media types), as bytes in place.
enum ASCII {
    /// Whether `bytes` spell `lowercase` with its letters in any case; every other byte must be equal.
    static func equalsIgnoringCase(_ bytes: some Sequence<UInt8>, _ lowercase: some Sequence<UInt8>) -> Bool {
        bytes.elementsEqual(lowercase) { given, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(given) ? given | 0x20 == expected : given == expected
        }
    }
}
