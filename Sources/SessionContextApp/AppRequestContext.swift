import Hummingbird

/// The request context of the service: Hummingbird's core storage and the verified identity.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, once the auth middleware has verified the token.
    public var identity: Identity?
    /// Closes the request's connection at once: how a long-lived response (server-sent events)
    /// drops a client that stopped reading. With ``stopReading``, the one place the HTTP layer touches its channel.
    public let closeConnection: @Sendable () -> Void
    /// Closes the connection's input: the response under way is still written, then the
    /// connection ends. How a draining worker ends keep-alive connections without losing a request.
    public let stopReading: @Sendable () -> Void

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        let channel = source.channel
        self.closeConnection = { channel.close(promise: nil) }
        self.stopReading = { channel.close(mode: .input, promise: nil) }
    }
}
