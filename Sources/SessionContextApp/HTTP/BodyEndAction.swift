import Synchronization

/// Work for the end of a streamed response body that must happen even if the body never starts.
///
/// Hummingbird writes a streamed response's head before it calls the body's closure, and when that
/// write fails (the client went away while the handler ran) it drops the closure without calling
/// it. Call ``run()`` where the closure ends, and capture this object in the closure: if the
/// closure never runs, the action runs when the closure is dropped. Either way it runs once.
final class BodyEndAction: Sendable {
    private let action: Mutex<(@Sendable () -> Void)?>

    /// An action to run once, at ``run()`` or when this object is released.
    init(_ action: @escaping @Sendable () -> Void) {
        self.action = Mutex(action)
    }

    /// Runs the action, unless it has run.
    func run() {
        let action = self.action.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit {
        self.run()
    }
}
