import ServiceLifecycle
import Synchronization

/// Takes a stopping worker out of its load balancer's rotation before the HTTP server stops.
///
/// Run it in the process's service group after the application: on SIGTERM it is the first to
/// hear of the shutdown. For ``period`` it then keeps the server serving while `/health/ready`
/// answers 503 and every response closes its connection (`Connection: close`), so that keep-alive
/// clients take their next request elsewhere; only then does the server's own graceful shutdown
/// close what is left. Without it, a request a client sends on an idle keep-alive connection at
/// the moment the server closes it is lost on the wire.
public final class ConnectionDrain: Service, Sendable {
    /// How long the worker drains before its server stops.
    public let period: Duration
    private let draining = Atomic<Bool>(false)

    /// A drain of `period`; zero stops the server at once on SIGTERM.
    public init(period: Duration) {
        self.period = period
    }

    /// Whether the worker is draining: the shutdown has begun.
    public var isDraining: Bool { self.draining.load(ordering: .relaxed) }

    /// Waits for the graceful shutdown, then drains for ``period``.
    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is stopping hard
        }
        self.draining.store(true, ordering: .relaxed)
        try? await Task.sleep(for: self.period)
    }
}
