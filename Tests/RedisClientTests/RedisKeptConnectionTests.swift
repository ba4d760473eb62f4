import NIOCore
import NIOPosix
import RedisClient
import TestSupport
import Testing

@Suite("Kept connection")
struct RedisKeptConnectionTests {
    /// The server's own list of its clients' ids.
    static func clientIds(_ probe: RedisConnection) async throws -> [String] {
        let list = try await probe.send(RESPCommand("CLIENT", "LIST")).string ?? ""
        return list.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
        }
    }

    /// A connection of the test's own, for looking at the server.
    static func probe(_ endpoint: RedisEndpoint) async throws -> RedisConnection {
        try await RedisConnection.connect(
            to: endpoint, on: MultiThreadedEventLoopGroup.singleton.any(), connectTimeout: .seconds(2), commandTimeout: .seconds(2)
        )
    }

    @Test("Commands share one connection; one the server closed is replaced by the next command; releasing it closes it")
    func keptAcrossCommands() async throws {
        let endpoint = try RedisServer.shared()
        let probe = try await Self.probe(endpoint)
        defer { probe.closeSoon() }
        var kept: RedisKeptConnection? = RedisKeptConnection(to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        let first = try #require(try await kept?.send(RESPCommand("CLIENT", "ID")).int)
        for _ in 0..<5 {
            #expect(try await kept?.send(RESPCommand("CLIENT", "ID")).int == first)
        }
        _ = try await probe.send(RESPCommand("CLIENT", "KILL", "ID", String(first)))
        // Once the kill is seen, the next command goes out on a new connection.
        var replaced: Int64?
        try await eventually {
            replaced = try? await kept?.send(RESPCommand("CLIENT", "ID")).int
            return replaced != nil
        }
        let second = try #require(replaced)
        #expect(second != first)
        #expect(try await Self.clientIds(probe).contains(String(second)))
        kept = nil
        #expect(try await eventually { try await !Self.clientIds(probe).contains(String(second)) })
    }

    @Test("Shut down, it closes its connection and opens no other: later commands fail with shutdown")
    func shutDownForGood() async throws {
        let endpoint = try RedisServer.shared()
        let probe = try await Self.probe(endpoint)
        defer { probe.closeSoon() }
        let kept = RedisKeptConnection(to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        let id = try #require(try await kept.send(RESPCommand("CLIENT", "ID")).int)
        kept.shutDown()
        await #expect { try await kept.send(RESPCommand("PING")) } throws: { ($0 as? RedisError)?.code == .shutdown }
        #expect(try await eventually { try await !Self.clientIds(probe).contains(String(id)) })
    }
}
