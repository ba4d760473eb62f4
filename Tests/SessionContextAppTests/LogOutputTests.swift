#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SessionContextApp

@Suite("Log output: batched writes, every line kept, in order")
struct LogOutputTests {
    @Test("A burst of lines all arrive in order without a flush; a flush writes what waits; 64 KiB go out at once")
    func batches() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK) == 0)
        // Room for 1 MiB in the pipe (F_SETPIPE_SZ, 1031 on Linux): the writer never blocks here.
        #expect(fcntl(ends[1], 1031, 1 << 20) >= 1 << 20)
        let output = LogOutput(fileDescriptor: ends[1])
        let lines = (0..<500).map { "line \($0)\n" }
        for line in lines { Self.write(line, to: output) }
        // The first line went out at once, the rest within the 10 ms interval and its scheduling
        // (a dispatch timer: waited for up to 5 s, as the whole first pass starting on 2 cores once
        // delayed it past 2 s).
        var received = ""
        for _ in 0..<250 where received.utf8.count < lines.joined().utf8.count {
            try await Task.sleep(for: .milliseconds(20))
            received += Self.readAvailable(ends[0])
        }
        #expect(received == lines.joined())

        // A flush writes what is waiting, now.
        Self.write("a\n", to: output)
        Self.write("b\n", to: output)
        output.flush()
        #expect(Self.readAvailable(ends[0]) == "a\nb\n")

        // Whenever 64 KiB wait they are written, interval or not: of 128 KiB, at most 64 KiB still wait.
        let big = String(repeating: "x", count: 1023) + "\n"
        for _ in 0..<128 { Self.write(big, to: output) }
        let written = Self.readAvailable(ends[0]).utf8.count
        #expect(written >= 64 * 1024)
        output.flush()
        #expect(written + Self.readAvailable(ends[0]).utf8.count == 128 * 1024)
    }

    @Test("A file that refuses writes does not make lines pile up: what cannot be written is dropped")
    func failingFile() {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        close(ends[0])
        close(ends[1])
        // A closed descriptor: every write fails with EBADF (no SIGPIPE, unlike a pipe without a reader).
        let output = LogOutput(fileDescriptor: ends[1])
        let line = String(repeating: "x", count: 1023) + "\n"
        for _ in 0..<1024 { Self.write(line, to: output) }
        #expect(output.pendingCount < LogOutput.limit)
        output.flush()
        #expect(output.pendingCount == 0)
    }

    private static func write(_ text: String, to output: LogOutput) {
        Array(text.utf8).withUnsafeBytes { output.write($0) }
    }

    private static func readAvailable(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
