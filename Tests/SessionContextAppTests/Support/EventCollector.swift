import Foundation
import TestSupport
import NIOCore
import RedisClient
import SessionStore

/// Subscribes to a tenant's event channel and collects what arrives.
struct EventCollector: Sendable {
    let subscription: RedisSubscription

    static func subscribe(endpoint: RedisEndpoint, tenant: String) async throws -> EventCollector {
        EventCollector(
            subscription: try await RedisSubscription.subscribe(
                to: endpoint, channels: [SessionLayout.classicChannel(tenant: tenant)]
            )
        )
    }

    /// Reads events until one satisfies `last` (which is included), or fails after `timeout`.
    func collect(
        until last: @escaping @Sendable (JSONValue) -> Bool,
        timeout: Duration = .seconds(5),
        onEvent: @escaping @Sendable (JSONValue) -> Void = { _ in }
    ) async throws -> [JSONValue] {
        try await withThrowingTaskGroup(of: [JSONValue]?.self) { group in
            group.addTask {
                var events: [JSONValue] = []
                for try await message in self.subscription {
                    let event = try JSONParser().parse(message.payload.readableBytesView)
                    events.append(event)
                    onEvent(event)
                    if last(event) { return events }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            await self.subscription.close()
            guard let events = first else { throw TestSetupError("no closing event within \(timeout)") }
            return events
        }
    }
}
