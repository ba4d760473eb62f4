import RedisClient
import Synchronization

/// Watches a Redis server from outside the service: a `PING` every 50 ms on a connection of its
/// own, each one timed. A `PING` answered later than ``threshold``, or not at all, marks a period
/// in which Redis (or the machine it runs on) could not serve anyone: a fault of the surroundings,
/// not of the service, which must then answer 503 within its command timeout.
///
/// Fault tests use it to tell such periods from failures that the fault under test caused.
final class RedisStallWatch: Sendable {
    /// A period in which Redis did not answer a `PING` within the threshold.
    struct Stall: Sendable {
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
    }

    /// A `PING` slower than this is a stall.
    let threshold: Duration
    private let connection: RedisKeptConnection
    private let recorded = Mutex<[Stall]>([])

    init(endpoint: RedisEndpoint, threshold: Duration = .milliseconds(100)) {
        self.threshold = threshold
        self.connection = RedisKeptConnection(to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
    }

    /// The stalls seen so far, oldest first; overlapping ones are merged.
    var stalls: [Stall] { self.recorded.withLock { $0 } }

    /// Pings until the task is cancelled.
    func run() async {
        while !Task.isCancelled {
            let sent = ContinuousClock.now
            let answered = (try? await self.connection.send(RESPCommand("PING"))) != nil
            let end = ContinuousClock.now
            if !answered || end - sent > self.threshold { self.record(Stall(start: sent, end: end)) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        self.connection.shutDown()
    }

    /// Whether a request from `start` to `end` overlaps a stall, or began within `aftermath` of
    /// one's end (the time a client may take to reconnect after a stall).
    func overlaps(start: ContinuousClock.Instant, end: ContinuousClock.Instant, aftermath: Duration) -> Bool {
        self.stalls.contains { stall in stall.start < end && start < stall.end + aftermath }
    }

    private func record(_ stall: Stall) {
        self.recorded.withLock { stalls in
            if let last = stalls.last, stall.start <= last.end + .milliseconds(100) {
                stalls[stalls.count - 1].end = max(last.end, stall.end)
            } else {
                stalls.append(stall)
            }
        }
    }
}
