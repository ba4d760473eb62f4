import NIOCore
import Testing

@testable import RedisClient

@Suite("RESP command encoding")
struct RESPCommandTests {
    @Test("Arguments encoded ahead are the same bytes as arguments appended one by one")
    func preEncodedArguments() {
        var direct = RESPCommand(argumentCount: 5)
        for argument in ["EVALSHA", "abc", "0", "-12", "1234567890"] { direct.append(argument) }
        var mixed = RESPCommand(argumentCount: 5)
        mixed.append(RESPArguments(["EVALSHA", "abc"]))
        mixed.append(0)
        mixed.append(-12)
        mixed.append(RESPArguments(["1234567890"]))
        #expect(mixed.isComplete)
        #expect(String(buffer: mixed.buffer) == String(buffer: direct.buffer))
        #expect(String(buffer: direct.buffer).hasPrefix("*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n0\r\n$3\r\n-12\r\n$10\r\n"))
    }

    @Test("Commands are arrays of bulk strings, byte for byte")
    func encoding() {
        let command = RESPCommand("SET", "key", "välue")
        #expect(String(buffer: command.buffer) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n")
        #expect(command.isComplete)
    }

    @Test("Binary-safe arguments: CRLF and NUL inside a value")
    func binarySafe() {
        var command = RESPCommand(argumentCount: 2)
        command.append("ECHO")
        command.append(ByteBuffer(bytes: [0x0D, 0x0A, 0x00]))
        #expect(Array(command.buffer.readableBytesView) == Array("*2\r\n$4\r\nECHO\r\n$3\r\n".utf8) + [0x0D, 0x0A, 0x00] + Array("\r\n".utf8))
    }

    @Test("A script command names its SHA-1 and keys")
    func scriptCommand() {
        let script = RedisScript(source: "return 1")
        #expect(script.sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        var command = script.command(keys: ["k"], argumentCount: 1)
        command.append(7)
        #expect(String(buffer: command.buffer) == "*5\r\n$7\r\nEVALSHA\r\n$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\n7\r\n")
    }
}
