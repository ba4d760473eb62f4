import RedisClient

extension SessionEventStream {
    /// Reads as `consumer` of `group`: first the events delivered to it before and not yet
    /// acknowledged, then new ones, in stream order, until the reading task is cancelled.
    ///
    /// Events are read as they are asked for, at most 100 at a time: a consumer that handles them
    /// slowly holds one batch in memory, never the backlog. Events read but not yet handed out when
    /// the reader stops stay pending in the group and come first after a restart.
    public func consume(group: String, consumer: String) -> Consumer {
        Consumer(stream: self, group: group, consumer: consumer)
    }

    /// An event handed to a group consumer; acknowledge it once handled, or it is delivered again
    /// to this consumer after a restart.
    public struct Delivery: Sendable {
        /// The event.
        public let event: SessionEvent
        let link: ConsumerLink

        /// Marks the event handled (`XACK`), on the consumer's own connection. Acknowledge before
        /// asking for the next event: while the consumer waits for new events on that connection,
        /// an acknowledgement from elsewhere waits behind the blocking read.
        public func acknowledge() async throws {
            guard let id = self.event.id else { return }
            _ = try await self.link.connection.send(RESPCommand("XACK", self.link.stream.key, self.link.group, id))
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
            Iterator(link: ConsumerLink(stream: self.stream, group: self.group, consumer: self.consumer))
        }

        /// Reads the next batch when the last one has been handed out.
        public struct Iterator: AsyncIteratorProtocol {
            let link: ConsumerLink
            private var batch: [SessionEvent] = []
            private var position = 0
            /// Where the re-read of this consumer's pending events stands; nil once they are all read.
            private var pendingFrom: String? = "0"

            init(link: ConsumerLink) {
                self.link = link
            }

            /// The next event; nil once the reading task is cancelled. Cancelling it while it waits
            /// for new events closes the consumer's connection, which ends the wait at once.
            public mutating func next() async throws -> Delivery? {
                if Task.isCancelled { return nil }
                while self.position == self.batch.count {
                    // Checked before every read: a cancellation that came while the previous read
                    // (or the connecting) was under way must not start a blocking one.
                    if Task.isCancelled { return nil }
                    let link = self.link
                    let command = self.readCommand()
                    let reply: RESPValue
                    do {
                        reply = try await withTaskCancellationHandler {
                            // Cancelled before the handler was in place: onCancel has run already.
                            try Task.checkCancellation()
                            return try await link.connection.send(command)
                        } onCancel: {
                            link.connection.close()
                        }
                    } catch where Task.isCancelled {
                        return nil
                    }
                    let entries = StreamEntry.entries(ofStreams: reply)
                    self.batch = try entries.events()
                    self.position = 0
                    if self.pendingFrom != nil {
                        // By the entries' ids, not the events': an entry trimmed from the stream
                        // comes back without its event, and must not end the re-read early.
                        self.pendingFrom = entries.last?.id
                        try await link.acknowledgeTrimmed(entries)
                        if Task.isCancelled { return nil }
                    }
                }
                defer { self.position += 1 }
                return Delivery(event: self.batch[self.position], link: self.link)
            }

            /// `XREADGROUP` of this consumer's pending events after `pendingFrom`, or once they are
            /// all read, of new events (waiting up to the block time for one).
            private func readCommand() -> RESPCommand {
                let stream = self.link.stream
                var arguments = ["GROUP", self.link.group, self.link.consumer, "COUNT", "100"]
                if self.pendingFrom == nil { arguments += ["BLOCK", String(stream.blockTime.milliseconds)] }
                arguments += ["STREAMS", stream.key, self.pendingFrom ?? ">"]
                return RESPCommand("XREADGROUP", arguments: arguments)
            }
        }
    }
}

/// What a group consumer's iterator and deliveries share: who reads, and the connection it reads
/// and acknowledges on (opened on first use, opened again after it closed, closed once the
/// iterator and the deliveries are all gone).
final class ConsumerLink: Sendable {
    let stream: SessionEventStream
    let group: String
    let consumer: String
    /// The connection it reads and acknowledges on.
    let connection: RedisKeptConnection

    init(stream: SessionEventStream, group: String, consumer: String) {
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.connection = stream.keptConnection()
    }

    /// Acknowledges those of `entries` (this consumer's pending ones) that were trimmed from the
    /// stream: they can never be delivered, and would otherwise stay in the group's pending list
    /// for good. A failure because the reading task was cancelled is no failure: the caller ends.
    func acknowledgeTrimmed(_ entries: [StreamEntry]) async throws {
        let trimmed = entries.trimmedIds
        guard !trimmed.isEmpty else { return }
        do {
            _ = try await self.connection.send(RESPCommand("XACK", arguments: [self.stream.key, self.group] + trimmed))
        } catch where Task.isCancelled {
            return
        }
    }
}
