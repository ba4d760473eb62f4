import RedisClient

extension SessionEventStream {
    /// Reads as `consumer` of `group` (on every bucket's stream): first the events delivered to it
    /// before and not yet acknowledged, then new ones, in stream order within each bucket, until
    /// the reading task is cancelled.
    ///
    /// Events are read as they are asked for, at most 100 per bucket at a time: a consumer that
    /// handles them slowly holds one batch in memory, never the backlog. Events read but not yet
    /// handed out when the reader stops stay pending in the group and come first after a restart.
    public func consume(group: String, consumer: String) -> Consumer {
        Consumer(stream: self, group: group, consumer: consumer)
    }

    /// An event handed to a group consumer; acknowledge it once handled, or it is delivered again
    /// to this consumer after a restart.
    public struct Delivery: Sendable {
        /// The event.
        public let event: SessionEvent
        let stream: SessionEventStream
        let group: String

        /// Marks the event handled (`XACK` on its bucket's stream, through the router: never
        /// behind the consumer's own blocking read).
        public func acknowledge() async throws {
            guard let id = self.event.id, let bucket = self.event.bucket else { return }
            let key = self.stream.keys[bucket]
            _ = try await self.stream.redis.send(RESPCommand("XACK", key, self.group, id), key: key)
        }
    }

    /// A group consumer's events, read from Redis as the loop asks for them
    /// (``SessionEventStream/consume(group:consumer:)``).
    public struct Consumer: AsyncSequence, Sendable {
        public typealias Element = Delivery

        let stream: SessionEventStream
        let group: String
        let consumer: String

        public func makeAsyncIterator() -> Iterator {
            Iterator(stream: self.stream, group: self.group, consumer: self.consumer)
        }

        /// Reads the next batch when the last one has been handed out.
        public struct Iterator: AsyncIteratorProtocol {
            let stream: SessionEventStream
            let group: String
            let consumer: String
            private var reads: BucketReads?
            private var batch: [SessionEvent] = []
            private var position = 0
            /// Where the re-read of this consumer's pending events stands, for each bucket whose
            /// pending events are not all read yet; empty once they all are.
            private var pendingFrom: [Int: String]

            init(stream: SessionEventStream, group: String, consumer: String) {
                self.stream = stream
                self.group = group
                self.consumer = consumer
                self.pendingFrom = Dictionary(uniqueKeysWithValues: (0..<stream.layout.buckets).map { ($0, "0") })
            }

            /// The next event; nil once the reading task is cancelled. Cancelling it while it waits
            /// for new events closes the consumer's connection, which ends the wait at once.
            public mutating func next() async throws -> Delivery? {
                if Task.isCancelled { return nil }
                while self.position == self.batch.count {
                    // Checked before every read: a cancellation that came while the previous read
                    // (or the connecting) was under way must not start a blocking one.
                    if Task.isCancelled { return nil }
                    if self.reads == nil { self.reads = try await self.stream.reads(blocking: true) }
                    guard let reads = self.reads else { return nil }
                    do {
                        self.batch = try await withTaskCancellationHandler {
                            try Task.checkCancellation()
                            return try await self.readBatch(reads)
                        } onCancel: {
                            reads.connection?.close()
                        }
                    } catch where Task.isCancelled {
                        return nil
                    }
                    self.position = 0
                }
                defer { self.position += 1 }
                return Delivery(event: self.batch[self.position], stream: self.stream, group: self.group)
            }

            /// The next batch: this consumer's pending events while some bucket has any, then new
            /// ones (waiting up to the block time for some).
            private mutating func readBatch(_ reads: BucketReads) async throws -> [SessionEvent] {
                let verb = ["XREADGROUP", "GROUP", self.group, self.consumer, "COUNT", "100"]
                guard !self.pendingFrom.isEmpty else {
                    let ids = Array(repeating: ">", count: self.stream.layout.buckets)
                    return try await reads.read(verb, after: ids, block: true).flatMap { bucket, entries in
                        try entries.events(bucket: bucket)
                    }
                }
                // Only the buckets whose pending events are not all read yet.
                let positions = self.pendingFrom.sorted { $0.key < $1.key }
                let found = try await reads.read(verb, after: positions.map(\.value), only: positions.map(\.key), block: false)
                var next: [Int: String] = [:]
                var events: [SessionEvent] = []
                for (bucket, entries) in found {
                    // By the entries' ids, not the events': an entry trimmed from the stream comes
                    // back without its event, and must not end the re-read early.
                    guard let last = entries.last else { continue }
                    next[bucket] = last.id
                    try await self.acknowledgeTrimmed(entries, bucket: bucket)
                    events += try entries.events(bucket: bucket)
                }
                self.pendingFrom = next
                return events
            }

            /// Acknowledges those of `entries` (this consumer's pending ones) that were trimmed from
            /// the stream: they can never be delivered, and would otherwise stay pending for good.
            private func acknowledgeTrimmed(_ entries: [StreamEntry], bucket: Int) async throws {
                let trimmed = entries.trimmedIds
                guard !trimmed.isEmpty else { return }
                let key = self.stream.keys[bucket]
                _ = try await self.stream.redis.send(RESPCommand("XACK", arguments: [key, self.group] + trimmed), key: key)
            }
        }
    }
}
