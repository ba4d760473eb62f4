import NIOCore

/// Turns the bytes of a Redis connection into ``RESPValue`` replies with ``HiredisReplyReader``.
///
/// Every read is fed to the reader whole and every complete reply it then holds is passed on at
/// once, so a read that carries many pipelined replies delivers all of them (a one-reply-per-call
/// decoder would leave the rest waiting inside hiredis until more bytes arrived).
final class RESPReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = RESPValue

    private let reader = HiredisReplyReader()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        do {
            try self.reader.feed(buffer)
            while let reply = try self.reader.next() {
                context.fireChannelRead(self.wrapInboundOut(reply))
            }
        } catch {
            context.fireErrorCaught(error)
        }
    }
}
