import NIOCore

/// A command encoded in the RESP wire format, ready to write to a connection.
///
/// Arguments are appended straight into one `ByteBuffer` as RESP bulk strings, so a command
/// costs no intermediate arrays of strings:
/// ```swift
/// var command = RESPCommand(argumentCount: 2)
/// command.append("GET")
/// command.append("key")
/// ```
public struct RESPCommand: Sendable {
    /// The encoded bytes of the command.
    public private(set) var buffer: ByteBuffer
    /// How many arguments the header announced (0 for a ``transaction(_:)``, which holds several commands).
    public let argumentCount: Int
    /// How many replies the server sends for these bytes: 1 for a command, more for a
    /// ``transaction(_:)``, whose caller gets only the last (or the first error among them).
    public let replyCount: Int
    private var appended = 0

    /// Starts a command of exactly `argumentCount` arguments (the name counts as one).
    public init(argumentCount: Int, capacity: Int = 64) {
        self.argumentCount = argumentCount
        self.replyCount = 1
        self.buffer = ByteBuffer()
        self.buffer.reserveCapacity(capacity + 16)
        self.buffer.writeInteger(UInt8(ascii: "*"))
        self.buffer.writeDecimal(argumentCount)
        self.buffer.writeStaticString("\r\n")
    }

    /// A command from its name and string arguments.
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments: arguments)
    }

    /// A command from its name and string arguments.
    public init(_ name: String, arguments: [String]) {
        self.init(argumentCount: arguments.count + 1)
        self.append(name)
        for argument in arguments { self.append(argument) }
    }

    /// Appends one argument, its UTF-8 bytes.
    public mutating func append(_ argument: String) {
        self.appendHeader(length: argument.utf8.count)
        self.buffer.writeString(argument)
        self.buffer.writeStaticString("\r\n")
    }

    /// Appends one argument, the bytes of `argument`.
    public mutating func append(_ argument: ByteBuffer) {
        self.appendHeader(length: argument.readableBytes)
        self.buffer.writeImmutableBuffer(argument)
        self.buffer.writeStaticString("\r\n")
    }

    /// Appends one argument, an integer in decimal.
    public mutating func append(_ argument: Int) {
        self.appendHeader(length: ByteBuffer.decimalLength(of: argument))
        self.buffer.writeDecimal(argument)
        self.buffer.writeStaticString("\r\n")
    }

    /// Appends arguments encoded ahead of time (see ``RESPArguments``): the same bytes, no work.
    public mutating func append(_ arguments: RESPArguments) {
        precondition(self.appended + arguments.count <= self.argumentCount, "more arguments than announced")
        self.appended += arguments.count
        self.buffer.writeImmutableBuffer(arguments.encoded)
    }

    /// `commands` as one atomic step, `MULTI` … `EXEC`, in one piece that is written as a whole
    /// (no other command on the connection can fall between its parts). Its reply is `EXEC`'s: an
    /// array of the commands' replies, in order. It fails instead with the first error reply: one
    /// while the commands were queued (a redirect, a wrong argument count: then nothing of the
    /// transaction ran), or one of a command as it ran (`NOSCRIPT`, `READONLY`: the commands
    /// before it did run).
    public static func transaction(_ commands: [RESPCommand]) -> RESPCommand {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(commands.reduce(Self.multi.readableBytes + Self.exec.readableBytes) { $0 + $1.buffer.readableBytes })
        buffer.writeImmutableBuffer(Self.multi)
        for command in commands {
            precondition(command.isComplete && command.replyCount == 1, "a transaction holds complete single commands")
            buffer.writeImmutableBuffer(command.buffer)
        }
        buffer.writeImmutableBuffer(Self.exec)
        return RESPCommand(transaction: buffer, replyCount: commands.count + 2)
    }

    private static let multi = RESPCommand("MULTI").buffer
    private static let exec = RESPCommand("EXEC").buffer

    private init(transaction buffer: ByteBuffer, replyCount: Int) {
        self.buffer = buffer
        self.argumentCount = 0
        self.replyCount = replyCount
    }

    /// Whether every announced argument has been appended.
    public var isComplete: Bool { self.appended == self.argumentCount }

    private mutating func appendHeader(length: Int) {
        precondition(self.appended < self.argumentCount, "more arguments than announced")
        self.appended += 1
        self.buffer.writeInteger(UInt8(ascii: "$"))
        self.buffer.writeDecimal(length)
        self.buffer.writeStaticString("\r\n")
    }
}

/// Arguments that are the same in every command that carries them (a script's SHA, settings),
/// encoded once as RESP bulk strings and appended to each command as they are.
public struct RESPArguments: Sendable {
    /// How many arguments.
    public let count: Int
    /// Their RESP encoding.
    let encoded: ByteBuffer

    /// The encoding of `arguments`.
    public init(_ arguments: [String]) {
        var command = RESPCommand(argumentCount: arguments.count)
        for argument in arguments { command.append(argument) }
        var encoded = command.buffer
        // Drop the array header: these bytes go inside another command's array.
        while let byte = encoded.readInteger(as: UInt8.self), byte != UInt8(ascii: "\n") {}
        self.count = arguments.count
        self.encoded = encoded
    }
}
