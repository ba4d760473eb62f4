/// Which session context: a tenant and a session id, both validated.
public struct SessionAddress: Sendable, Hashable {
    /// The tenant, as in the path.
    public let tenant: String
    /// The session id.
    public let sessionId: String
    /// The Redis key of the context's hash, made once. The hash tag `{tenant:sessionId}` keeps
    /// every key of one session in one Redis Cluster slot.
    public let key: String

    /// An address from a tenant and session id that are already known to be valid.
    public init(tenant: String, sessionId: String) {
        self.tenant = tenant
        self.sessionId = sessionId
        self.key = "sc:{\(tenant):\(sessionId)}"
    }

    /// Whether both name the same context. The key names the address (a tenant has no `:`), so
    /// it alone is compared.
    public static func == (lhs: SessionAddress, rhs: SessionAddress) -> Bool { lhs.key == rhs.key }

    /// Hashes the key alone (see ``==(_:_:)``).
    public func hash(into hasher: inout Hasher) { hasher.combine(self.key) }

    /// The key of the tenant's event stream.
    public var streamKey: String { Self.streamKey(tenant: self.tenant) }

    /// The key a worker sets to claim the publishing of this context's `expired` event.
    public var expiryClaimKey: String { self.key + ":expired" }

    /// The key of a tenant's event stream (hash-tagged by tenant).
    public static func streamKey(tenant: String) -> String { "sc:events:{\(tenant)}" }

    /// The address of a session context's key, if `key` is one (`sc:{<tenant>:<sessionId>}`).
    public init?(key: String) {
        guard let (tenant, sessionId) = Identifiers.hashTag(of: key, after: "sc:{"), Identifiers.isValidSessionId(sessionId) else {
            return nil
        }
        self.init(tenant: String(tenant), sessionId: String(sessionId))
    }

    /// The pub/sub channel of the tenant's change events.
    public var eventChannel: String { Self.eventChannel(tenant: self.tenant) }

    /// The pub/sub channel of a tenant's change events.
    public static func eventChannel(tenant: String) -> String { "session-context:\(tenant):events" }
}
