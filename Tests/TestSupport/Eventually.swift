/// Checks `condition` until it holds, at most `attempts` times, `interval` apart; returns whether
/// it held. For what a test waits on that happens in the background (a connection closing, a
/// metric recorded), with a bound on the wait.
@discardableResult
public func eventually(
    attempts: Int = 100,
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    for attempt in 1...max(1, attempts) {
        if try await condition() { return true }
        if attempt < attempts { try await Task.sleep(for: interval) }
    }
    return false
}
