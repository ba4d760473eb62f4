import NIOCore
import RedisClient

/// Reads a tenant's bucket streams, all of them at once: on one server, one `XREAD` (or
/// `XREADGROUP`) names every bucket's stream and blocks on all of them; on a Redis Cluster the
/// buckets are in different slots, which no one command may name, so each round asks every
/// bucket's node without blocking (concurrently, through the router's pools) and, finding
/// nothing, asks again after ``SessionEventStream/pollInterval`` until the block time is over.
struct BucketReads: Sendable {
    let stream: SessionEventStream
    /// The connection a single server's blocking reads wait on; nil on a cluster.
    let connection: RedisKeptConnection?

    /// Reads on `stream`; `connection` is for its blocking reads on one server.
    init(stream: SessionEventStream, connection: RedisKeptConnection?) {
        self.stream = stream
        self.connection = connection
    }

    /// The entries after `ids` (one per bucket, or per bucket of `only`) of those buckets, by bucket,
    /// read with `verb` (such as `XREAD COUNT 100`); with `block`, waits up to the stream's block
    /// time for some to come.
    func read(
        _ verb: [String], after ids: [String], only: [Int]? = nil, block: Bool
    ) async throws -> [(bucket: Int, entries: [StreamEntry])] {
        let buckets = only ?? Array(self.stream.keys.indices)
        let keys = buckets.map { self.stream.keys[$0] }
        if let connection = self.connection {
            var arguments = Array(verb.dropFirst())
            if block { arguments += ["BLOCK", String(self.stream.blockTime.milliseconds)] }
            arguments += ["STREAMS"] + keys + ids
            let reply = try await connection.send(RESPCommand(verb[0], arguments: arguments))
            return StreamEntry.entries(byStream: reply).compactMap { key, entries in
                keys.firstIndex(of: key).map { (buckets[$0], entries) }
            }
        }
        let deadline = ContinuousClock.now + self.stream.blockTime
        while true {
            let found = try await self.readEach(verb, buckets: buckets, ids: ids)
            if !found.isEmpty || !block || ContinuousClock.now >= deadline { return found }
            try await Task.sleep(for: min(self.stream.pollInterval, deadline - ContinuousClock.now))
        }
    }

    /// One non-blocking read of `buckets`, each through the router to its own node.
    private func readEach(_ verb: [String], buckets: [Int], ids: [String]) async throws -> [(bucket: Int, entries: [StreamEntry])] {
        let replies = try await self.each(buckets) { index, key in
            RESPCommand(verb[0], arguments: Array(verb.dropFirst()) + ["STREAMS", key, ids[index]])
        }
        return zip(buckets, replies).compactMap { bucket, reply in
            let entries = StreamEntry.entries(ofStreams: reply)
            return entries.isEmpty ? nil : (bucket, entries)
        }
    }

    /// Sends one command per bucket of `buckets` (all by default; `command(index, key)`, `index`
    /// the bucket's place in `buckets`), each to its bucket's server, all at once; the replies in
    /// the order of `buckets`.
    func each(_ buckets: [Int]? = nil, _ command: (Int, String) -> RESPCommand) async throws -> [RESPValue] {
        let keys = (buckets ?? Array(self.stream.keys.indices)).map { self.stream.keys[$0] }
        let redis = self.stream.redis
        return try await withThrowingTaskGroup(of: (Int, RESPValue).self) { group in
            for (index, key) in keys.enumerated() {
                let request = command(index, key)
                group.addTask { (index, try await redis.send(request, key: key)) }
            }
            var replies = [RESPValue](repeating: .null, count: keys.count)
            for try await (index, reply) in group { replies[index] = reply }
            return replies
        }
    }
}
