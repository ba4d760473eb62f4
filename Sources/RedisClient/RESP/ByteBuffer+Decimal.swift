import NIOCore

extension ByteBuffer {
    /// Writes `value` in decimal ASCII, zero-padded to at least `minimumDigits` digits, without
    /// making a `String`: RESP lengths and integer arguments, timestamps.
    public mutating func writeDecimal(_ value: Int, minimumDigits: Int = 1) {
        if value < 0 { self.writeInteger(UInt8(ascii: "-")) }
        var (digits, divisor) = Self.decimalDigits(of: value.magnitude)
        while digits < minimumDigits {
            self.writeInteger(UInt8(ascii: "0"))
            digits += 1
        }
        var rest = value.magnitude
        while divisor > 0 {
            self.writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// How many bytes ``writeDecimal(_:minimumDigits:)`` writes for `value` (sign included).
    static func decimalLength(of value: Int) -> Int {
        (value < 0 ? 1 : 0) + Self.decimalDigits(of: value.magnitude).count
    }

    /// The number of decimal digits of `magnitude`, and the power of ten of its first digit.
    private static func decimalDigits(of magnitude: UInt) -> (count: Int, divisor: UInt) {
        var count = 1
        var divisor: UInt = 1
        while divisor <= magnitude / 10 {
            divisor *= 10
            count += 1
        }
        return (count, divisor)
    }
}
