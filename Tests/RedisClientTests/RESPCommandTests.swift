import NIOCore
import Testing

@testable import RedisClient

@Suite("RESP command encoding")
struct RESPCommandTests {
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
