#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (`RLIMIT_NOFILE`), which bounds how many connections a
/// worker can hold: every HTTP client, every Redis connection and every log file takes one.
///
/// A worker past this limit cannot accept, cannot reconnect to Redis and cannot open files; so
/// it serves at most ``ServiceConfiguration/maxConnections`` HTTP connections, a number derived
/// from this limit by default (see ``ServiceConfiguration/maximumConnections(openFiles:)``).
public struct OpenFileLimit: Sendable, Equatable {
    /// The limit in force (the soft limit).
    public var current: Int
    /// The most the process may raise it to (the hard limit).
    public var maximum: Int

    /// A limit of `current` files, raisable to `maximum`.
    public init(current: Int, maximum: Int) {
        self.current = current
        self.maximum = maximum
    }

    /// The process's limit now, or nil where it cannot be read.
    public static func read() -> OpenFileLimit? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        return OpenFileLimit(current: Self.count(limit.rlim_cur), maximum: Self.count(limit.rlim_max))
    }

    /// Raises the process's limit to its maximum (as Go's runtime does at start-up: the soft limit
    /// of 1024 that many systems set is a relic of `select`, which the worker does not use) and
    /// returns the limit then in force.
    public static func raiseToMaximum() -> OpenFileLimit? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(Self.resource, &raised)
        }
        return Self.read()
    }

    /// `value` as a count; unlimited (`RLIM_INFINITY`, all bits set) as `Int.max`.
    private static func count(_ value: rlim_t) -> Int {
        value > rlim_t(Int.max) ? Int.max : Int(value)
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
