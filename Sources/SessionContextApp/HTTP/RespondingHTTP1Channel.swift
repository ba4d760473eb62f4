import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 channel with ``PipelineResponder`` in its pipeline, right before the
/// handler that hands requests to Hummingbird's per-connection task: after the connection state
/// handler, which must see every request and answer for its idle timeout and graceful shutdown.
struct RespondingHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let shared: PipelineResponder.Shared

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(PipelineResponder(shared: self.shared), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with `configuration`, and ``PipelineResponder`` answering what
    /// needs no route.
    static func http1(configuration: HTTP1Channel.Configuration, responder shared: PipelineResponder.Shared) -> HTTPServerBuilder {
        .init { responder in
            RespondingHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: configuration), shared: shared)
        }
    }
}
