/// Which session context: a tenant and a session id, both validated, and the bucket the layout
/// puts the session in (``SessionLayout``).
public struct SessionAddress: Sendable, Hashable {
    /// The tenant, as in the path.
    public let tenant: String
    /// The session id.
    public let sessionId: String
    /// The session's bucket.
    public let bucket: Int
    /// The Redis key of the context's hash, `sc:{<tenant>:<bucket>}:<sessionId>`, made once. The
    /// hash tag puts it in its bucket's slot, with the bucket's event stream.
    public let key: String

    /// The address of `sessionId` of `tenant` in `bucket` (use ``SessionLayout/address(tenant:sessionId:)``).
    init(tenant: String, sessionId: String, bucket: Int) {
        self.tenant = tenant
        self.sessionId = sessionId
        self.bucket = bucket
        self.key = "sc:{\(tenant):\(bucket)}:\(sessionId)"
    }

    /// Whether both name the same context. The key names the address (a tenant has no `:`), so
    /// it alone is compared.
    public static func == (lhs: SessionAddress, rhs: SessionAddress) -> Bool { lhs.key == rhs.key }

    /// Hashes the key alone (see ``==(_:_:)``).
    public func hash(into hasher: inout Hasher) { hasher.combine(self.key) }

    /// The key of the event stream of the session's bucket.
    public var streamKey: String { SessionLayout.streamKey(tenant: self.tenant, bucket: self.bucket) }

    /// The key a worker sets to claim the publishing of this context's `expired` event (in the
    /// session's slot; it does not start with `sc:{`, so it is never taken for a session).
    public var expiryClaimKey: String { "sc:expired:{\(self.tenant):\(self.bucket)}:\(self.sessionId)" }

    /// The address of a session context's key, if `key` is one (`sc:{<tenant>:<bucket>}:<sessionId>`)
    /// and its bucket is the one `layout` gives the session.
    public init?(key: String, layout: SessionLayout) {
        guard let address = SessionAddress(keyInAnyBucket: key), address.bucket == layout.bucket(of: address.sessionId) else {
            return nil
        }
        self = address
    }

    /// The address a key shaped `sc:{<tenant>:<bucket>}:<sessionId>` names, whatever bucket count
    /// put it there (for finding keys to migrate).
    init?(keyInAnyBucket key: String) {
        let bytes = key.utf8
        guard bytes.starts(with: "sc:{".utf8), let close = bytes.firstIndex(of: UInt8(ascii: "}")) else { return nil }
        let afterClose = bytes.index(after: close)
        guard afterClose < bytes.endIndex, bytes[afterClose] == UInt8(ascii: ":") else { return nil }
        let tag = bytes[bytes.index(bytes.startIndex, offsetBy: 4)..<close]
        guard let colon = tag.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let tenant = Substring(tag[tag.startIndex..<colon])
        let sessionId = Substring(bytes[bytes.index(after: afterClose)...])
        guard Identifiers.isValidTenant(tenant), Identifiers.isValidSessionId(sessionId),
            let bucket = Int(Substring(tag[tag.index(after: colon)...])), (0..<SessionLayout.maximumBuckets).contains(bucket)
        else { return nil }
        self.init(tenant: String(tenant), sessionId: String(sessionId), bucket: bucket)
    }

    /// The classic pub/sub channel of the tenant's change events.
    public var eventChannel: String { SessionLayout.classicChannel(tenant: self.tenant) }

    /// The sharded pub/sub channel of the session's bucket.
    public var shardChannel: String { SessionLayout.shardChannel(tenant: self.tenant, bucket: self.bucket) }
}
