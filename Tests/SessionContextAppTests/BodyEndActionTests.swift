@testable import SessionContextApp
import Synchronization
import Testing

/// The end-of-body action the event stream's subscriber slot and the request metrics rely on
/// when Hummingbird drops a streamed body unwritten (see `ObservabilityTests.droppedStreamedBody`
/// for that drop through a real connection).
@Suite("Body end action")
struct BodyEndActionTests {
    final class Runs: Sendable {
        let count = Mutex(0)
        func add() { self.count.withLock { $0 += 1 } }
        var value: Int { self.count.withLock { $0 } }
    }

    @Test("Run where the body ends, it runs once, not again when released")
    func runThenRelease() {
        let runs = Runs()
        do {
            let action = BodyEndAction { runs.add() }
            action.run()
            action.run()
            #expect(runs.value == 1)
        }
        #expect(runs.value == 1)
    }

    @Test("A body closure dropped without running still runs it once, as it is released")
    func droppedClosure() {
        let runs = Runs()
        let subscribers = SSEClientCount()
        do {
            #expect(subscribers.enter(limit: 1))
            let leave = BodyEndAction { subscribers.leave(); runs.add() }
            let body: @Sendable () -> Void = { leave.run() }
            withExtendedLifetime(body) { #expect(runs.value == 0) }
        }
        #expect(runs.value == 1)
        // The subscriber's slot is free again.
        #expect(subscribers.enter(limit: 1))
    }
}
