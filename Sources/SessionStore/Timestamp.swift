import NIOCore
import RedisClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Formats epoch milliseconds as UTC ISO-8601 with milliseconds (`2026-02-04T17:06:50.134Z`).
public enum Timestamp {
    /// Milliseconds since the epoch now, by this machine's clock.
    public static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

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
        buffer.writeDecimal(Int(year), minimumDigits: 4)
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeDecimal(Int(month), minimumDigits: 2)
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeDecimal(Int(day), minimumDigits: 2)
        buffer.writeInteger(UInt8(ascii: "T"))
        buffer.writeDecimal(Int(rest / 3600), minimumDigits: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeDecimal(Int(rest % 3600 / 60), minimumDigits: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeDecimal(Int(rest % 60), minimumDigits: 2)
        buffer.writeInteger(UInt8(ascii: "."))
        buffer.writeDecimal(millis, minimumDigits: 3)
        buffer.writeInteger(UInt8(ascii: "Z"))
    }
}
