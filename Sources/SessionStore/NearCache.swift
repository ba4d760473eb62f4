import NIOCore
import Synchronization

/// A bounded in-process cache of session contexts for the management read, kept fresh by the
/// tenant event channels: every event drops its session's entry (``NearCacheListener``), and
/// this worker's own writes drop theirs before they answer (read-your-writes).
///
/// While the event subscription is down the cache is empty and bypassed, so a read is never
/// staler than the pub/sub delay. A read that misses inserts what it read only if no event for
/// that session arrived while it was reading.
public final class NearCache: Sendable {
    private struct State {
        var entries: [SessionAddress: Entry] = [:]
        /// Insertion order, oldest first, for eviction. An invalidated entry leaves a stale
        /// element behind (its insertion number no longer matches); ``compactOrder()`` drops them
        /// once they outnumber the capacity, so this stays within twice the capacity.
        var order = CircularBuffer<(address: SessionAddress, insertion: UInt64)>()
        var insertions: UInt64 = 0
        var isLive = false
        /// Invalidation sequence numbers: the last one per recently invalidated session.
        var sequence: UInt64 = 0
        var recent: [SessionAddress: UInt64] = [:]
        var recentOrder = CircularBuffer<SessionAddress>()
        /// Every invalidation before this number has been forgotten.
        var forgottenBefore: UInt64 = 0

        /// Drops the elements of `order` whose entry is gone or was inserted again since.
        mutating func compactOrder() {
            var live = CircularBuffer<(address: SessionAddress, insertion: UInt64)>(initialCapacity: self.entries.count)
            for element in self.order where self.entries[element.address]?.insertion == element.insertion {
                live.append(element)
            }
            self.order = live
        }
    }

    /// A cached context and the number of the insertion that stored it.
    private struct Entry {
        var snapshot: SessionSnapshot
        var insertion: UInt64
    }

    /// How many contexts it holds at most.
    public let capacity: Int
    private let state = Mutex(State())
    private let recentCapacity: Int

    /// A cache of at most `capacity` contexts; it starts bypassed until ``setLive(_:)``.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.recentCapacity = max(1024, capacity)
    }

    /// A ticket for a read about to go to Redis; pass it to ``insert(_:for:ticket:)``.
    public struct Ticket: Sendable {
        let sequence: UInt64
        let live: Bool
    }

    /// The cached context, or a ticket to read it from Redis.
    public func lookup(_ address: SessionAddress) -> SessionSnapshot? {
        self.state.withLock { state in state.isLive ? state.entries[address]?.snapshot : nil }
    }

    /// A ticket taken before reading `address` from Redis.
    public func ticket() -> Ticket {
        self.state.withLock { Ticket(sequence: $0.sequence, live: $0.isLive) }
    }

    /// Stores what a read found, unless the cache went down or an event for it came since the ticket.
    public func insert(_ snapshot: SessionSnapshot, for address: SessionAddress, ticket: Ticket) {
        self.state.withLock { state in
            guard ticket.live, state.isLive else { return }
            if ticket.sequence < state.forgottenBefore { return }
            if let last = state.recent[address], last > ticket.sequence { return }
            state.insertions += 1
            state.entries[address] = Entry(snapshot: snapshot, insertion: state.insertions)
            state.order.append((address, state.insertions))
            while state.entries.count > self.capacity, let oldest = state.order.popFirst() {
                if state.entries[oldest.address]?.insertion == oldest.insertion {
                    state.entries.removeValue(forKey: oldest.address)
                }
            }
            if state.order.count > 2 * self.capacity {
                state.compactOrder()
            }
        }
    }

    /// Drops `address` (an event for it arrived, or this worker changed it).
    public func invalidate(_ address: SessionAddress) {
        self.state.withLock { state in
            state.sequence += 1
            state.entries.removeValue(forKey: address)
            if state.recent.updateValue(state.sequence, forKey: address) == nil {
                state.recentOrder.append(address)
            }
            if state.recentOrder.count > self.recentCapacity {
                let forgotten = state.recentOrder.removeFirst()
                if let number = state.recent.removeValue(forKey: forgotten) {
                    state.forgottenBefore = max(state.forgottenBefore, number + 1)
                }
            }
        }
    }

    /// Turns the cache on (subscribed) or off (subscription down); both empty it.
    public func setLive(_ live: Bool) {
        self.state.withLock { state in
            state.isLive = live
            state.entries = [:]
            state.order = []
            state.sequence += 1
            state.forgottenBefore = state.sequence
            state.recent = [:]
            state.recentOrder = []
        }
    }

    /// How many contexts it holds now.
    public var count: Int { self.state.withLock { $0.entries.count } }

    /// How many addresses its bookkeeping holds: the eviction order and the recently invalidated.
    /// Bounded by twice the capacity plus the recent capacity, whatever the traffic.
    var bookkeepingCount: Int { self.state.withLock { $0.order.count + $0.recentOrder.count } }
}
