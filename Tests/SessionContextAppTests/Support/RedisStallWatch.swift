import RedisClient
import Synchronization

/// Watches a Redis server beside the service: a `PING` every 50 ms on a connection of its own,
/// each one timed. A `PING` answered later than ``threshold``, or not at all, marks a period in
/// which Redis, or the machine it and the test run on, served nobody promptly; the service must
/// then answer 503 within its command timeout. (The watch runs in the test's process: a test
/// short of CPU sees a stall too.)
///
/// Fault tests use it to tell such periods from failures that the fault under test caused; the
/// faults they inject (Redis killed, frozen) show as stalls as well.
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

    /// The stalls seen so far, oldest first; stalls less than 100 ms apart are merged into one.
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
