/// A session key that is not where a layout puts it, and where it goes: a key of the layout
/// before buckets (`sc:{<tenant>:<sessionId>}`), or one of another bucket count.
struct SessionMove: Sendable {
    /// The key as found.
    let from: String
    /// The session's address in the layout.
    let to: SessionAddress

    /// The move of `key` into `layout`, or nil when `key` is no session key or is where it belongs.
    init?(key: String, layout: SessionLayout) {
        if let (tenant, sessionId) = Identifiers.hashTag(of: key, after: "sc:{"), Identifiers.isValidSessionId(sessionId) {
            // The layout before buckets: the whole of tenant and session id is the hash tag.
            self.from = key
            self.to = layout.address(tenant: String(tenant), sessionId: String(sessionId))
            return
        }
        guard let address = SessionAddress(keyInAnyBucket: key), address.key != layout.address(tenant: address.tenant, sessionId: address.sessionId).key
        else { return nil }
        self.from = key
        self.to = layout.address(tenant: address.tenant, sessionId: address.sessionId)
    }
}
