import Logging

/// The worker's text log: swift-log's `StreamLogHandler` lines on standard output, with the
/// logger's metadata rendered only when a line is written.
///
/// `StreamLogHandler` renders its metadata into text each time an item is set. Hummingbird sets
/// one (`hb.request.id`) on every request's logger, so every request paid for sorting and
/// formatting its metadata even when no line was written: 2.4 µs of a request's CPU under the
/// profiler. This handler keeps the metadata itself and hands it to the stream handler with the
/// line; the lines are the same.
public struct TextLogHandler: LogHandler {
    /// The metadata of the logger, not yet rendered.
    public var metadata: Logger.Metadata = [:]
    private var stream: StreamLogHandler

    /// A handler for loggers labelled `label`, writing to standard output.
    public init(label: String) {
        self.init(writingThrough: StreamLogHandler.standardOutput(label: label))
    }

    /// A handler whose lines `stream` writes; its own metadata is not used.
    public init(writingThrough stream: StreamLogHandler) {
        self.stream = stream
    }

    /// The lowest level this handler writes.
    public var logLevel: Logger.Level {
        get { self.stream.logLevel }
        set { self.stream.logLevel = newValue }
    }

    /// The provider of metadata added to every line, as `StreamLogHandler` has it.
    public var metadataProvider: Logger.MetadataProvider? {
        get { self.stream.metadataProvider }
        set { self.stream.metadataProvider = newValue }
    }

    /// One item of the logger's metadata.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Writes `event`'s line with the logger's metadata, the event's own items taking precedence.
    public func log(event: LogEvent) {
        var event = event
        if !self.metadata.isEmpty {
            event.metadata = self.metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        self.stream.log(event: event)
    }
}
