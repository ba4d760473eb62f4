import NIOCore

/// A message published on a channel the subscription listens to.
public struct RedisPubSubMessage: Sendable {
    /// The channel it was published on.
    public var channel: String
    /// The pattern that matched the channel, for pattern subscriptions.
    public var pattern: String?
    /// The published bytes.
    public var payload: ByteBuffer
}
