/// Where a reader of a tenant's events stands: one stream id per bucket (`"0-0"` for the start of
/// that bucket's stream). An SSE `id:` line, and `Last-Event-ID`, carry it as text.
///
/// The text is `<ms>.<b0>.<b1>…` with one part per bucket: `<ms>` is the newest millisecond time
/// of all the ids, each part the base-36 distance of its id's time below it, with `-<seq>` (base 36)
/// when the id's sequence is not 0, or empty for `"0"`. `"0"` alone is the start of every bucket.
/// A plain stream id (such as `1763800000000-0`, from before buckets) stands for that id in every
/// bucket: what follows it in time, exact only for the bucket it came from.
public struct SessionEventCursor: Sendable, Hashable, CustomStringConvertible {
    /// The last id read from each bucket's stream.
    public private(set) var ids: [String]

    /// The start (`"0-0"`), or `id`, in each of `buckets` buckets.
    public init(buckets: Int, id: String = "0-0") {
        self.ids = Array(repeating: id, count: buckets)
    }

    /// A cursor with these ids, one per bucket.
    public init(ids: [String]) {
        self.ids = ids
    }

    /// The cursor `text` spells for `buckets` buckets; nil when it is not one (or is one of
    /// another bucket count).
    public init?(_ text: some StringProtocol, buckets: Int) {
        if let id = StreamId(text) {
            self.init(buckets: buckets, id: id.description)
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == buckets + 1, parts[0].utf8.count <= 20, let newest = UInt64(parts[0]) else { return nil }
        var ids: [String] = []
        ids.reserveCapacity(buckets)
        for part in parts.dropFirst() {
            if part.isEmpty {
                ids.append("0-0")
                continue
            }
            let pieces = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces[0].utf8.count <= 13, let distance = UInt64(pieces[0], radix: 36), distance <= newest else { return nil }
            var sequence: UInt64 = 0
            if pieces.count == 2 {
                guard pieces[1].utf8.count <= 13, let parsed = UInt64(pieces[1], radix: 36) else { return nil }
                sequence = parsed
            }
            ids.append(StreamId(milliseconds: newest - distance, sequence: sequence).description)
        }
        self.init(ids: ids)
    }

    /// Moves bucket `bucket` on to `id` (an id just read from its stream).
    public mutating func advance(bucket: Int, to id: String) {
        self.ids[bucket] = id
    }

    /// The cursor as text (see the type's description).
    public var description: String {
        let parsed = self.ids.map { StreamId($0) ?? StreamId(milliseconds: 0, sequence: 0) }
        guard let newest = parsed.map(\.milliseconds).max(), newest > 0 else { return "0" }
        var text = String(newest)
        for id in parsed {
            text += "."
            guard id.milliseconds > 0 || id.sequence > 0 else { continue }
            text += String(newest - id.milliseconds, radix: 36)
            if id.sequence > 0 { text += "-" + String(id.sequence, radix: 36) }
        }
        return text
    }
}

/// A Redis stream id, `<ms>-<seq>` (or `<ms>` alone, sequence 0).
struct StreamId: Hashable, CustomStringConvertible {
    var milliseconds: UInt64
    var sequence: UInt64

    init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    init?(_ text: some StringProtocol) {
        let pieces = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let milliseconds = Self.number(pieces[0]) else { return nil }
        var sequence: UInt64 = 0
        if pieces.count == 2 {
            guard let parsed = Self.number(pieces[1]) else { return nil }
            sequence = parsed
        }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    /// `text` as a 64-bit number when it is decimal digits only (no sign, as Redis takes it).
    private static func number(_ text: some StringProtocol) -> UInt64? {
        guard text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }

    var description: String { "\(self.milliseconds)-\(self.sequence)" }
}
