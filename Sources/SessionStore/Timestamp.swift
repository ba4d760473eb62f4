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
        buffer.writeJSON(reserving: 24) { $0.iso8601(milliseconds: milliseconds) }
    }
}
