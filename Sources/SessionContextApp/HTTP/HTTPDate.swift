#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `Date` header's value for now (RFC 9110's IMF-fixdate, `Sat, 05 Dec 2026 12:31:08 GMT`),
/// made once a second: what Hummingbird puts on its responses, for the ones ``PipelineResponder``
/// writes itself.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The current second's date.
    static var now: String {
        let second = time(nil)
        return self.cache.withLock { cached in
            if cached.second != second {
                cached = (second, self.format(second))
            }
            return cached.text
        }
    }

    /// `second` (since 1970, UTC) as an IMF-fixdate.
    static func format(_ second: Int) -> String {
        var clock = time_t(second)
        var parts = tm()
        gmtime_r(&clock, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(self.days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(self.months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }
}
