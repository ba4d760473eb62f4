import Crypto
import NIOCore

/// A Lua script run with `EVALSHA`, loaded into the server on first use (and again after a
/// `NOSCRIPT`, for instance when Redis restarted and lost its script cache).
public struct RedisScript: Sendable {
    /// The Lua source.
    public let source: String
    /// The SHA-1 of the source in hex, as Redis names the script.
    public let sha1: String
    /// `EVALSHA <sha1>`, encoded once.
    private let head: RESPArguments

    /// A script from its Lua source.
    public init(source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        self.head = RESPArguments(["EVALSHA", self.sha1])
    }

    /// Starts an `EVALSHA` command of this script with `keys`; append `argumentCount` arguments to it.
    public func command(keys: [String], argumentCount: Int, capacity: Int = 256) -> RESPCommand {
        var command = RESPCommand(argumentCount: 3 + keys.count + argumentCount, capacity: capacity)
        command.append(self.head)
        command.append(keys.count)
        for key in keys { command.append(key) }
        return command
    }
}
