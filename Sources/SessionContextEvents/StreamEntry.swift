import RedisClient

/// One entry of a stream reply: its id, and its fields (`nil` for a pending entry trimmed from the
/// stream since it was delivered, which `XREADGROUP` returns with a null field list).
struct StreamEntry {
    /// The entry's stream id.
    let id: String
    /// `field, value, …`; nil when the entry is gone from the stream.
    let fields: [RESPValue]?

    /// The entries of an `XRANGE` reply: `[[id, [field, value, …]], …]`.
    static func entries(in reply: RESPValue) -> [StreamEntry] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            if parts[1].isNull { return StreamEntry(id: id, fields: nil) }
            return parts[1].array.map { StreamEntry(id: id, fields: $0) }
        }
    }

    /// The entries of an `XREAD`/`XREADGROUP` reply: `[[key, entries], …]`, or nil when none came.
    static func entries(ofStreams reply: RESPValue) -> [StreamEntry] {
        Self.entries(byStream: reply).flatMap(\.entries)
    }

    /// The entries of an `XREAD`/`XREADGROUP` reply, by stream key.
    static func entries(byStream reply: RESPValue) -> [(key: String, entries: [StreamEntry])] {
        (reply.array ?? []).compactMap { stream in
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string else { return nil }
            return (key, Self.entries(in: parts[1]))
        }
    }

    /// The event in the entry's `event` field, from bucket `bucket`; nil when it has none.
    func event(bucket: Int? = nil) throws -> SessionEvent? {
        guard let fields = self.fields else { return nil }
        var index = 0
        while index + 1 < fields.count {
            if fields[index].string == "event", case .bulkString(let payload) = fields[index + 1] {
                var event = try SessionEvent.decode(payload.readableBytesView, id: self.id)
                event.bucket = bucket
                return event
            }
            index += 2
        }
        return nil
    }
}

extension [StreamEntry] {
    /// The events the entries hold, in order; entries without one are skipped.
    func events(bucket: Int? = nil) throws -> [SessionEvent] {
        try self.compactMap { try $0.event(bucket: bucket) }
    }

    /// The ids of the entries that are gone from the stream (no fields).
    var trimmedIds: [String] {
        self.compactMap { $0.fields == nil ? $0.id : nil }
    }
}
