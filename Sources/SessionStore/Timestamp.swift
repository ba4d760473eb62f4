import NIOCore

/// Formats epoch milliseconds as UTC ISO-8601 with milliseconds (`2026-02-04T17:06:50.134Z`).
public enum Timestamp {
    /// The ISO-8601 text of `milliseconds` since the epoch.
    public static func iso8601(milliseconds: Int64) -> String {
        var buffer = ByteBuffer()
        self.writeISO8601(milliseconds: milliseconds, into: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the ISO-8601 text of `milliseconds` since the epoch, digit by digit (no strings made).
    public static func writeISO8601(milliseconds: Int64, into buffer: inout ByteBuffer) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        var days = seconds / 86_400
        var rest = seconds - days * 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        // Days to civil date, after Howard Hinnant's algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        Self.write(Int(year), width: 4, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "-"))
        Self.write(Int(month), width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "-"))
        Self.write(Int(day), width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "T"))
        Self.write(Int(rest / 3600), width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        Self.write(Int(rest % 3600 / 60), width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        Self.write(Int(rest % 60), width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "."))
        Self.write(millis, width: 3, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "Z"))
    }

    /// Writes `number` (not negative) in decimal, zero-padded to at least `width` digits.
    private static func write(_ number: Int, width: Int, into buffer: inout ByteBuffer) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = max(number, 0)
        withUnsafeMutableBytes(of: &digits) { storage in
            repeat {
                storage[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            while count < width {
                storage[count] = UInt8(ascii: "0")
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.writeInteger(storage[index]) }
        }
    }
}
