/// Which session context: a tenant and a session id, both validated.
public struct SessionAddress: Sendable, Hashable {
    /// The tenant, as in the path.
    public let tenant: String
    /// The session id.
    public let sessionId: String

    /// An address from a tenant and session id that are already known to be valid.
    public init(tenant: String, sessionId: String) {
        self.tenant = tenant
        self.sessionId = sessionId
    }

    /// The Redis key of the context's hash. The hash tag `{tenant:sessionId}` keeps every key of
    /// one session in one Redis Cluster slot.
    public var key: String { "sc:{\(self.tenant):\(self.sessionId)}" }

    /// The pub/sub channel of the tenant's change events.
    public var eventChannel: String { Self.eventChannel(tenant: self.tenant) }

    /// The pub/sub channel of a tenant's change events.
    public static func eventChannel(tenant: String) -> String { "session-context:\(tenant):events" }
}
