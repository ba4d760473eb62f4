import Foundation
import Logging
import NIOCore
import SessionStore

/// A log handler that writes one JSON object per line to standard output:
/// `{"ts":…,"level":…,"label":…,"message":…, <metadata>…}`, through ``LogOutput``.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    /// A handler for loggers labelled `label`.
    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Writes `event` as one JSON object on a line of its own; its error, if any, as `error.message`.
    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var explicit = event.metadata
        if let error = event.error {
            explicit = (explicit ?? [:]).merging(["error.message": "\(error)"]) { _, new in new }
        }
        var buffer = self.lineHead(level: level, message: message.description)
        let merged = self.metadata.merging(explicit ?? [:]) { _, new in new }
        for key in merged.keys.sorted() where !["ts", "level", "label", "message"].contains(key) {
            Self.append(key: key, value: merged[key]!.description, to: &buffer)
        }
        Self.end(&buffer)
    }

    /// A line's object up to its metadata: time, level, label, message.
    private func lineHead(level: Logger.Level, message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"ts\":")
        JSONWriter.writeString(Timestamp.iso8601(milliseconds: Timestamp.nowMilliseconds()), into: &buffer)
        buffer.writeStaticString(",\"level\":")
        JSONWriter.writeString(level.rawValue, into: &buffer)
        buffer.writeStaticString(",\"label\":")
        JSONWriter.writeString(self.label, into: &buffer)
        buffer.writeStaticString(",\"message\":")
        JSONWriter.writeString(message, into: &buffer)
        return buffer
    }

    /// One `,"key":"value"` member.
    private static func append(key: String, value: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: ","))
        JSONWriter.writeString(key, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        JSONWriter.writeString(value, into: &buffer)
    }

    /// Closes the line's object and hands the line to the output.
    private static func end(_ buffer: inout ByteBuffer) {
        buffer.writeStaticString("}\n")
        buffer.withUnsafeReadableBytes { LogOutput.standardOutput.write($0) }
    }
}

extension JSONLogHandler: AccessLineWriting {
    /// Writes `line` as ``log(event:)`` writes its `logger.info` line, when this handler has no
    /// metadata of its own to merge in.
    func writeAccessLine(_ line: AccessLine) -> Bool {
        guard self.metadata.isEmpty else { return false }
        var buffer = self.lineHead(level: .info, message: AccessLine.message)
        line.forEachItem { key, value in Self.append(key: key, value: value, to: &buffer) }
        Self.end(&buffer)
        return true
    }
}
