import Foundation

/// One change event of a session context, as published on the pub/sub channels and appended to
/// the stream of the session's bucket.
public struct SessionEvent: Sendable, Decodable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Decodable {
        case created, updated, deleted, expired
        case attributeSet = "attribute.set"
        case attributeDeleted = "attribute.deleted"
    }

    /// The stream entry id (e.g. `1763800000000-0`), when read from a stream; the events of one
    /// bucket (so of one session) are ordered by it.
    public var id: String?
    /// The bucket whose stream it was read from, when read from one.
    public var bucket: Int?
    /// What happened.
    public var type: Kind
    /// The tenant.
    public var tenant: String
    /// The session.
    public var sessionId: String
    /// The context's version after the change (the last version for `deleted`, 0 for `expired`).
    public var version: Int64
    /// What changed: standard field names and `context.<attribute>`.
    public var changed: [String]
    /// When, UTC ISO-8601 with milliseconds.
    public var at: String
    /// The worker that applied the change.
    public var origin: String
    /// The JSON payload exactly as published.
    public var json: String = ""

    /// Decodes an event's JSON payload, with the stream id it was stored under.
    public static func decode(_ payload: some Collection<UInt8>, id: String? = nil) throws -> SessionEvent {
        let data = Data(payload)
        var event = try JSONDecoder().decode(SessionEvent.self, from: data)
        event.id = id
        event.json = String(decoding: data, as: UTF8.self)
        return event
    }

    enum CodingKeys: String, CodingKey {
        case type, tenant, sessionId, version, changed, at, origin
    }
}
